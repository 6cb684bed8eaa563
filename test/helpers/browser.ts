/**
 * Headless Debian Chromium for browser tests, launched the one way this machine allows: the
 * system binary (no downloaded browser) with background networking off, since only loopback is
 * reachable here and Chromium would otherwise try Google's hosts at every start.
 */
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium package, or CHROMIUM_PATH. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Launches headless Chromium. Close it with `browser.close()`.
 * @throws when /usr/bin/chromium is missing (`npm run provision` installs it).
 * @example const browser = await launchChromium();
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
