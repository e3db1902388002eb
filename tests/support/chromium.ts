import { accessSync, constants, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** The one line a newcomer without Chromium reads: how to get one. */
export const chromiumMissingMessage =
  "The browser tests need Chromium: install it (Debian: sudo apt-get install -y chromium-headless-shell; " +
  "Ubuntu: sudo apt-get install -y chromium; macOS: brew install --cask chromium; " +
  "or npx playwright install --only-shell chromium) or set CHROMIUM_PATH=/path/to/chrome";

const executable = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** Playwright's own downloads of `browser` ("chromium" or "chromium_headless_shell"), newest revision first. */
function playwrightDownloads(home: string, browser: string, executables: string[]): string[] {
  const cache = join(home, ".cache/ms-playwright");
  let entries: string[];
  try {
    entries = readdirSync(cache);
  } catch {
    return [];
  }
  const revision = (name: string) => Number(name.slice(browser.length + 1));
  return entries
    .filter((name) => new RegExp(`^${browser}-\\d+$`).test(name))
    .sort((a, b) => revision(b) - revision(a))
    .flatMap((name) => executables.map((executable) => join(cache, name, executable)));
}

/**
 * Where Chromium or Chrome usually is. Chromium's headless shell first (Debian's, then
 * Playwright's): the tests only run headless, and with the shell a browser test file costs
 * about half the CPU (browser.test: 43-45 CPU-s instead of 84-86). Then the full browser:
 * Debian, Ubuntu, Fedora, macOS, Playwright's cache.
 */
export function chromiumCandidates(home = homedir()): string[] {
  return [
    "/usr/bin/chromium-headless-shell",
    ...playwrightDownloads(home, "chromium_headless_shell", [
      "chrome-headless-shell-linux64/chrome-headless-shell",
      "chrome-linux/headless_shell",
    ]),
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    ...playwrightDownloads(home, "chromium", ["chrome-linux64/chrome", "chrome-linux/chrome"]),
  ];
}

/**
 * The Chromium the browser tests drive: `CHROMIUM_PATH` if set, else the first
 * usual install location that holds one. Throws one line saying how to install
 * it, so a missing browser fails the tests instead of skipping them.
 *
 * @example
 * chromium.launch({ executablePath: findChromium() });
 */
export function findChromium(
  env: NodeJS.ProcessEnv = process.env,
  candidates = chromiumCandidates(),
): string {
  const chosen = env.CHROMIUM_PATH;
  if (chosen) {
    if (executable(chosen)) return chosen;
    throw new Error(`CHROMIUM_PATH=${chosen} is not an executable. ${chromiumMissingMessage}`);
  }
  const found = candidates.find(executable);
  if (!found) throw new Error(chromiumMissingMessage);
  return found;
}
