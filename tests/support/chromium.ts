import { accessSync, constants, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** The one line a newcomer without Chromium reads: how to get one. */
export const chromiumMissingMessage =
  "The browser tests need Chromium: install it (Debian/Ubuntu: sudo apt-get install -y chromium; " +
  "macOS: brew install --cask chromium; or npx playwright install chromium) " +
  "or set CHROMIUM_PATH=/path/to/chrome";

const executable = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** Playwright's own downloads, newest revision first. */
function playwrightChromiums(): string[] {
  const cache = join(homedir(), ".cache/ms-playwright");
  let entries: string[];
  try {
    entries = readdirSync(cache);
  } catch {
    return [];
  }
  return entries
    .filter((name) => /^chromium-\d+$/.test(name))
    .sort((a, b) => Number(b.split("-")[1]) - Number(a.split("-")[1]))
    .flatMap((name) => [
      join(cache, name, "chrome-linux64/chrome"),
      join(cache, name, "chrome-linux/chrome"),
    ]);
}

/** Where Chromium or Chrome usually is: Debian, Ubuntu, Fedora, macOS, then Playwright's cache. */
export function chromiumCandidates(): string[] {
  return [
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    ...playwrightChromiums(),
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
