// The System Overview page's files (HTML, script, style sheet). They live in the repository
// as plain files, not strings in code, so they can be read, linted and diffed as what they
// are; the appliance reads each once and serves it from memory.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The page's files by name. */
export const PAGE_ASSETS = {
  page: 'overview.html',
  script: 'overview.js',
  stylesheet: 'overview.css',
} as const;

/** One of the page's files. */
export type PageAsset = keyof typeof PAGE_ASSETS;

const here = fileURLToPath(new URL('.', import.meta.url));
// Compiled, this module sits in dist/appliance/web/; the files stay in appliance/web/assets/.
const ASSET_DIR = /[\\/]dist[\\/]appliance[\\/]web[\\/]$/.test(here) ? join(here, '..', '..', '..', 'appliance', 'web', 'assets') : join(here, 'assets');

const cache = new Map<PageAsset, Promise<string>>();

/** The text of one of the page's files (read on first use, then kept). */
export function pageAsset(name: PageAsset): Promise<string> {
  let text = cache.get(name);
  if (!text) {
    text = readFile(join(ASSET_DIR, PAGE_ASSETS[name]), 'utf8');
    // A failed read is retried on the next request rather than remembered.
    text.catch(() => cache.delete(name));
    cache.set(name, text);
  }
  return text;
}

/**
 * Headers of every page response: the page runs only its own script and style sheet, talks
 * only to this appliance, cannot be framed, and is revalidated on every load (so an upgrade
 * shows at once).
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};
