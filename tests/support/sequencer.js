const { readFileSync } = require("node:fs");
const Sequencer = require("@jest/test-sequencer").default;

/**
 * Jest's order (failed first, then slowest, or largest on a fresh clone), with the files
 * marked `@exclusive` spread evenly through it: between two of them the other workers have
 * many files to run, so they seldom wait for the exclusive lock (tests/support/exclusive.ts).
 * (One other file between them was not enough: a fresh-clone run's second worker waited
 * 36 s of vanishing-clients' 69 s while join-leave held the lock.)
 */
// The pragma as the test environment sees it (context.docblockPragmas): jest-runner's own parser.
const docblock = require(require.resolve("jest-docblock", { paths: [require.resolve("jest-runner")] }));
const isExclusive = (test) =>
  "exclusive" in docblock.parse(docblock.extract(readFileSync(test.path, "utf8")));

class SpreadExclusiveSequencer extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    const exclusive = sorted.filter(isExclusive);
    const others = sorted.filter((test) => !isExclusive(test));
    const gap = Math.floor(others.length / Math.max(exclusive.length, 1));
    const order = [];
    exclusive.forEach((test, i) => order.push(test, ...others.slice(i * gap, (i + 1) * gap)));
    return [...order, ...others.slice(exclusive.length * gap)];
  }
}

module.exports = SpreadExclusiveSequencer;
