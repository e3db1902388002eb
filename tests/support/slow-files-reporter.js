/**
 * After a run, one line per test file that took longer than its budget, slowest first, so a
 * file that creeps up is noticed before the suite misses its time. The budget is generous: the
 * times are wall clock on a shared 2-core machine.
 */
const budgetSeconds = Number(process.env.ROOMCAST_SLOW_FILE_SECONDS ?? 60);

class SlowFilesReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(_contexts, results) {
    const seconds = (file) => (file.perfStats.end - file.perfStats.start) / 1000;
    const slow = results.testResults
      .filter((file) => seconds(file) > budgetSeconds)
      .sort((a, b) => seconds(b) - seconds(a));
    const relative = (path) => path.slice(this.rootDir.length + 1);
    for (const file of slow)
      process.stderr.write(
        `slow file: ${relative(file.testFilePath)} ${seconds(file).toFixed(1)} s (budget ${budgetSeconds} s)\n`,
      );
    const total = (Date.now() - results.startTime) / 1000;
    process.stderr.write(`jest wall time: ${total.toFixed(1)} s, ${results.numTotalTestSuites} files\n`);
  }
}

module.exports = SlowFilesReporter;
