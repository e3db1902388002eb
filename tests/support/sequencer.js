const { readFileSync } = require("node:fs");
const Sequencer = require("@jest/test-sequencer").default;

/**
 * Jest's order (failed first, then slowest, or largest on a fresh clone), with the files
 * marked `@exclusive` spread out: each is followed by a file that may run beside it, so the
 * second worker seldom waits for the exclusive lock (tests/support/exclusive.ts).
 */
const isExclusive = (test) => /^\s*\*?\s*@exclusive\b/m.test(readFileSync(test.path, "utf8").slice(0, 2000));

class SpreadExclusiveSequencer extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    const exclusive = sorted.filter(isExclusive);
    const others = sorted.filter((test) => !isExclusive(test));
    const order = [];
    while (exclusive.length) {
      order.push(exclusive.shift());
      if (others.length) order.push(others.shift());
    }
    return [...order, ...others];
  }
}

module.exports = SpreadExclusiveSequencer;
