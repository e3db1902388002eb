/** @jest-environment node */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

// One source for each measured figure: bench/RESULTS.md. The convention: a figure quoted from it is
// followed, in the same sentence, by "(bench/RESULTS.md, N)", N the number of its section, and every
// number between the sentence's start (or the previous such reference) and the reference appears in
// that section (thousands separators aside). A sentence that names bench/RESULTS.md
// next to a number without saying which section fails too, so no quoted figure goes unchecked.
const repo = join(__dirname, "../..");
const read = (path: string) => readFileSync(join(repo, path), "utf8");

/** The committed docs that may quote figures: Markdown, and the stack files' comments. */
const documents = [
  "README.md",
  "model/README.md",
  "bench/README.md",
  ...readdirSync(join(repo, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
  "Pulumi.dev.yaml",
  "Pulumi.prod.yaml",
];

/** `50 000` and `50,000` are the same figure. */
const withoutSeparators = (text: string) => text.replace(/(\d)[ ,](?=\d{3}(?!\d))/g, "$1");
const numbersIn = (text: string) => withoutSeparators(text).match(/\d+(?:\.\d+)?/g) ?? [];

/** bench/RESULTS.md's sections by number (`## 3. Lambda package size ...` -> 3), as sets of numbers. */
const sections = new Map<string, Set<string>>(
  read("bench/RESULTS.md")
    .split(/^## /m)
    .slice(1)
    .map((text) => [/^(\d+)\./.exec(text)![1], new Set(numbersIn(text))]),
);

/** A document's sentences. */
function sentences(path: string): string[] {
  // In YAML only the comments are prose: each run of comment lines is a paragraph.
  const text = path.endsWith(".yaml")
    ? read(path)
        .split("\n")
        .map((line) => (/^\s*#/.test(line) ? line.replace(/^\s*# ?/, "") : ""))
        .join("\n")
    : read(path);
  return text
    .split(/\n\s*\n|\n(?=\s*[-*|] )|(?<=[.;])\s+(?=[A-Z(*`_])/)
    .map((sentence) => sentence.replace(/\s+/g, " ").trim());
}

const citation = /\(bench\/RESULTS\.md, (\d+)\)/;

type Quote = { path: string; section: string; text: string };
/** Each reference with the text it covers: `a (bench/RESULTS.md, 1) b (bench/RESULTS.md, 3)` -> a:1, b:3. */
const quotes: Quote[] = documents.flatMap((path) =>
  sentences(path).flatMap((sentence) => {
    const parts = sentence.split(new RegExp(citation, "g"));
    return parts.flatMap((text, i) =>
      i % 2 === 0 && i + 1 < parts.length ? [{ path, section: parts[i + 1], text }] : [],
    );
  }),
);

it("finds the quoted figures (the convention is in use)", () => {
  expect(quotes.length).toBeGreaterThan(5);
});

it.each(quotes.map((quote) => [quote.path, quote.section, quote.text] as const))(
  "%s quotes section %s: %s",
  (_path, section, text) => {
    const figures = sections.get(section);
    expect(figures).toBeDefined();
    const quoted = numbersIn(text);
    expect(quoted.filter((figure) => !figures!.has(figure))).toEqual([]);
  },
);

it("cites a section wherever a sentence names bench/RESULTS.md beside a number", () => {
  const uncited = documents.flatMap((path) =>
    sentences(path)
      .filter((sentence) => sentence.includes("bench/RESULTS.md") && !citation.test(sentence))
      .filter((sentence) => numbersIn(sentence.replace(/\(bench\/RESULTS\.md[^)]*\)/g, "")).length > 0)
      .map((sentence) => `${path}: ${sentence}`),
  );
  expect(uncited).toEqual([]);
});

it("states Node's requirement once, as package.json's engines", () => {
  const engines = (JSON.parse(read("package.json")) as { engines: { node: string } }).engines.node;
  const major = /^>=(\d+)$/.exec(engines)![1];
  const statements = documents.flatMap((path) =>
    [...read(path).matchAll(/Node(?:\.js)? (\d+)(\+| or newer)/g)].map(([text]) => `${path}: ${text}`),
  );
  expect(statements).toEqual([`README.md: Node.js ${major} or newer`]);
});
