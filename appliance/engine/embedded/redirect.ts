// The `forceHttps` VIP: every request is answered with a redirect to the https URL of the
// same host and path (the TeraRecon AVS-Redirect VIP). The Host header's port is dropped:
// the https side listens on its own default port.

const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;

/** The https URL for a request, or null when its Host cannot be trusted into a Location. */
export function httpsLocation(host: string | undefined, fallbackHost: string, url: string): string | null {
  let name: string;
  if (host === undefined || host === '') name = fallbackHost.includes(':') ? `[${fallbackHost}]` : fallbackHost;
  else {
    const m = HOST.exec(host);
    if (!m) return null;
    name = m[1] as string;
  }
  // An absolute-form request target keeps only its path and query.
  let path = url;
  if (!path.startsWith('/')) {
    try {
      const u = new URL(path);
      path = `${u.pathname}${u.search}`;
    } catch {
      return null;
    }
  }
  return `https://${name}${path}`;
}
