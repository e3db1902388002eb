/** @jest-environment node */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

// Every document the code and docs name is in the repository: a reader who clones it can follow
// each reference. A name counts as a document when it ends in `.md` or starts with `docs/`; it is
// found relative to the naming file's folder or a parent of it, up to the repository root.
const repo = join(__dirname, "../..");

/** The project's own text files: tracked or new, never ignored ones (node_modules, .data, ...). */
const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], {
  cwd: repo,
  encoding: "utf8",
})
  .split("\n")
  .filter((path) => /\.(ts|js|mjs|cjs|md|ya?ml|json|sh)$|^\.ci\/run$/.test(path))
  .filter((path) => path !== "package-lock.json" && existsSync(join(repo, path)))
  // This file names missing documents on purpose.
  .filter((path) => path !== relative(repo, __filename));

/**
 * `DESIGN.md`, `../shared/DESIGN.md`, `docs/deploy.md#tags`, `model/README.md` ... as a whole name:
 * not the tail of a longer path, and not a quoted path segment (`join(root, "docs", "ci.md")`).
 */
const documentName =
  /(?<![\w\\/.'"-])(?:(?:\.{1,2}\/)*(?:[\w.-]+\/)*[\w.-]+\.md\b|(?:\.{1,2}\/)*docs\/[\w./-]*[\w-])/g;

function namedDocuments(path: string): string[] {
  // Web addresses name other sites' pages, not files here.
  const text = readFileSync(join(repo, path), "utf8").replace(/\bhttps?:\/\/\S+/g, "");
  return [...text.matchAll(documentName)].map(([name]) => name);
}

/** Found from the naming file's folder or one of its parents (`RESULTS.md` in bench/lib/), inside the repository. */
function resolves(from: string, name: string): boolean {
  const folders = dirname(from)
    .split("/")
    .map((_, i, parts) => parts.slice(0, parts.length - i).join("/"));
  return [...folders, "."]
    .map((folder) => resolve(repo, folder, name))
    .some((candidate) => !relative(repo, candidate).startsWith("..") && existsSync(candidate));
}

const missing = (paths: string[]) =>
  paths.flatMap((path) =>
    namedDocuments(path)
      .filter((name) => !resolves(path, name))
      .map((name) => `${path}: ${name}`),
  );

it("reads the project's files, and finds the documents they name", () => {
  expect(files).toEqual(
    expect.arrayContaining(["README.md", "docs/design.md", "web/app.js", "local/gateway.ts"]),
  );
  expect(namedDocuments("local/gateway.ts")).toContain("docs/design.md");
});

it("names no document that is not in the repository", () => {
  expect(missing(files)).toEqual([]);
});

it("would catch a document outside the repository or a missing one", () => {
  // A reference to the brief the project started from lives outside the repository; a typo is missing.
  const names = ["../shared/DESIGN.md", "DESIGN.md", "docs/desing.md", "docs/design.md", "bench/RESULTS.md"];
  expect(names.filter((name) => !resolves("local/gateway.ts", name))).toEqual([
    "../shared/DESIGN.md",
    "DESIGN.md",
    "docs/desing.md",
  ]);
});
