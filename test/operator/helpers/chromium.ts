// Debian's Chromium driven by playwright-core: never a browser Playwright downloads. The
// flags keep Chromium off the network (this machine has none) and out of first-run work;
// Playwright gives every launch a new empty profile directory.
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { needProgram } from '../../helpers/programs.js';

/** The Chromium binary (Debian package `chromium`). */
export const CHROMIUM = process.env.LBAPPLIANCE_CHROMIUM ?? '/usr/bin/chromium';

const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Starts headless Chromium. */
export function launchChromium(): Promise<Browser> {
  needProgram(CHROMIUM);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}

/** A browser context signed in to an appliance as one user, at 1280x800. */
export function signedIn(browser: Browser, endpoint: string, username: string, password: string): Promise<BrowserContext> {
  return browser.newContext({
    httpCredentials: { username, password, origin: new URL(endpoint).origin },
    // The appliance's own self-signed certificate.
    ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 800 },
  });
}
