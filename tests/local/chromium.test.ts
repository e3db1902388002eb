import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { chromiumCandidates, chromiumMissingMessage, findChromium } from "../support/chromium";

// How the browser tests find Chromium: CHROMIUM_PATH, then the usual places, else one clear line.
const dir = mkdtempSync(join(tmpdir(), "roomcast-chromium-"));
const fake = (name: string) => {
  const path = join(dir, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, "#!/bin/sh\n");
  chmodSync(path, 0o755);
  return path;
};

afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("takes CHROMIUM_PATH first", () => {
  const chosen = fake("my-chrome");
  expect(findChromium({ CHROMIUM_PATH: chosen }, [fake("chromium")])).toBe(chosen);
});

it("otherwise takes the first usual location that holds an executable", () => {
  const second = fake("chromium-browser");
  expect(findChromium({}, [join(dir, "absent"), second, fake("google-chrome")])).toBe(second);
});

it("looks for the headless shell before the full browser, Debian's then Playwright's newest", () => {
  // `dir` stands for the home folder that holds Playwright's downloads.
  const shell = (revision: number) =>
    fake(
      `.cache/ms-playwright/chromium_headless_shell-${revision}/chrome-headless-shell-linux64/chrome-headless-shell`,
    );
  const [older, newer] = [shell(999), shell(1200)];
  const full = fake(".cache/ms-playwright/chromium-1200/chrome-linux64/chrome");
  const candidates = chromiumCandidates(dir);
  const at = (path: string) => candidates.indexOf(path);
  expect(at("/usr/bin/chromium-headless-shell")).toBe(0);
  expect(at(newer)).toBeGreaterThan(0);
  expect(at(older)).toBeGreaterThan(at(newer));
  expect(at("/usr/bin/chromium")).toBeGreaterThan(at(older));
  expect(at(full)).toBeGreaterThan(at("/usr/bin/chromium"));
  // With both at hand, the shell is the one launched.
  const downloaded = candidates.filter((path) => path.startsWith(dir));
  expect(findChromium({}, downloaded)).toBe(newer);
});

it("fails with one line that says how to install it", () => {
  expect(() => findChromium({}, [join(dir, "absent")])).toThrow(chromiumMissingMessage);
  expect(chromiumMissingMessage).not.toContain("\n");
  expect(() => findChromium({ CHROMIUM_PATH: join(dir, "absent") }, [])).toThrow(
    /CHROMIUM_PATH=.* is not an executable/,
  );
});
