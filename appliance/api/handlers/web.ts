// Handlers of the System Overview web page and its assets: the files as they are, with the
// page's security headers. Everything the page shows it reads through the API itself.
import { PAGE_HEADERS, pageAsset } from '../../web/page-assets.js';
import type { Handlers } from '../handler-types.js';

type WebHandlers = Pick<Handlers, 'getOverviewPage' | 'getOverviewScript' | 'getOverviewStylesheet'>;

/** The web page handlers. */
export function webHandlers(): WebHandlers {
  return {
    async getOverviewPage() {
      return { status: 200, body: await pageAsset('page'), headers: { ...PAGE_HEADERS } };
    },
    async getOverviewScript() {
      return { status: 200, body: await pageAsset('script'), headers: { ...PAGE_HEADERS } };
    },
    async getOverviewStylesheet() {
      return { status: 200, body: await pageAsset('stylesheet'), headers: { ...PAGE_HEADERS } };
    },
  };
}
