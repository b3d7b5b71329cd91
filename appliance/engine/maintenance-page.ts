// The built-in maintenance ("sorry") page a VIP with `fallback.mode: page` answers with, status
// 503, when none of its real servers can take a request. One text for both engines: the
// HAProxy engine puts it on one line of its configuration, so it holds no quote, backslash
// or line break.

/** The page's body. */
export const MAINTENANCE_PAGE =
  '<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>Service unavailable</title></head>' +
  '<body><h1>Service temporarily unavailable</h1><p>This service is down for maintenance. Please try again in a few minutes.</p></body></html>\n';

/** Its content type. */
export const MAINTENANCE_PAGE_TYPE = 'text/html; charset=utf-8';
