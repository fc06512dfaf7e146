import fs from 'node:fs';
import path from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import { tempDir } from './helpers.js';

/** Debian's Chromium (`apt-get install chromium`; `.ci/run` installs it), or CHROMIUM_BIN. */
export function chromiumPath(): string | null {
  const candidates = [process.env.CHROMIUM_BIN, '/usr/bin/chromium'].filter((p): p is string => Boolean(p));
  return candidates.find((p) => fs.existsSync(p)) ?? null;
}

export const NO_CHROMIUM = 'no Chromium: install Debian\'s chromium package (apt-get install chromium) or set CHROMIUM_BIN';

/** Headless Chromium with a fresh profile, no network of its own (no component updates, no sync). */
export async function launchChromium(executablePath: string): Promise<Browser> {
  return puppeteer.launch({
    executablePath,
    headless: true,
    userDataDir: tempDir('chromium-profile-'),
    args: [
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

/** Where browser tests keep their screenshots (gitignored). */
export function artifactPath(name: string): string {
  const dir = path.resolve(process.env.TEST_ARTIFACTS_DIR ?? new URL('../../test-artifacts/', import.meta.url).pathname);
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}
