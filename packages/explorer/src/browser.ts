// Headless Chromium for the explorer's browser tests and benchmark: the
// system's browser (Debian's chromium package, installed by the project's
// setup where it can be), driven by playwright-core, which downloads
// nothing. Every launch gets a fresh profile directory.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The Chromium executable: PAGEWALK_CHROMIUM, else /usr/bin/chromium. */
export function chromiumPath(): string {
  return process.env.PAGEWALK_CHROMIUM ?? '/usr/bin/chromium';
}

/** Why the browser tests cannot run here, or null. */
export function chromiumSkipReason(): string | null {
  const path = chromiumPath();
  if (!existsSync(path)) return `no Chromium at ${path} (install Debian's chromium package as root: apt-get install chromium; or set PAGEWALK_CHROMIUM)`;
  return null;
}

export interface HeadlessChromium {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Launches headless Chromium with a fresh --user-data-dir (removed on close). */
export async function launchChromium(): Promise<HeadlessChromium> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'pagewalk-chromium-'));
  // playwright passes the profile directory as --user-data-dir.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1500, height: 1000 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
