import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromiumMissingMessage, findChromium } from "../support/chromium";

// How the browser tests find Chromium: CHROMIUM_PATH, then the usual places, else one clear line.
const dir = mkdtempSync(join(tmpdir(), "roomcast-chromium-"));
const fake = (name: string) => {
  const path = join(dir, name);
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

it("fails with one line that says how to install it", () => {
  expect(() => findChromium({}, [join(dir, "absent")])).toThrow(chromiumMissingMessage);
  expect(chromiumMissingMessage).not.toContain("\n");
  expect(() => findChromium({ CHROMIUM_PATH: join(dir, "absent") }, [])).toThrow(
    /CHROMIUM_PATH=.* is not an executable/,
  );
});
