import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

// `@exclusive` counts only in the docblock that opens a file (jest-runner's parser, as the test
// environment and tests/support/sequencer.js read it): one below an import is silently ignored.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const docblock = require(require.resolve("jest-docblock", { paths: [require.resolve("jest-runner")] })) as {
  extract(source: string): string;
  parse(block: string): Record<string, string | string[]>;
};

const testsDir = join(__dirname, "..");
const testFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? testFiles(join(dir, entry.name))
      : entry.name.endsWith(".test.ts")
        ? [join(dir, entry.name)]
        : [],
  );

it("every test file that says @exclusive says it in its opening docblock", () => {
  const marked = testFiles(testsDir).filter(
    (file) => file !== __filename && /@exclusive\b/.test(readFileSync(file, "utf8")),
  );
  expect(marked.length).toBeGreaterThan(0);
  const hidden = marked.filter(
    (file) => !("exclusive" in docblock.parse(docblock.extract(readFileSync(file, "utf8")))),
  );
  expect(hidden.map((file) => relative(testsDir, file))).toEqual([]);
});
