import type { Table } from "./markdown";
import type { Progress } from "./progress";

export type BenchContext = {
  /** `--quick`: smaller sizes and fewer trials, for a run within 2 minutes. */
  quick: boolean;
  progress: Progress;
  /** `--latency <ms>`: the simulated round trip of every Management API call in benchmark 2's second pass. */
  managementLatencyMs: number;
  /**
   * The benchmark's DynamoDB Local (in memory), started on first use. `fresh` stops the one in use
   * and starts another: it keeps every stream record ever written, which slows what comes after.
   */
  dynamodb(options?: { fresh?: boolean }): Promise<string>;
  /** Scratch folder for this benchmark (bench/.work/<name>, git-ignored). */
  workDir: string;
};

/** What a benchmark hands back for RESULTS.md and the console. */
export type BenchReport = {
  /** What was measured and how, in a few sentences of Markdown. */
  method: string;
  tables: Table[];
  /** The SVG written to bench/charts/<name>.svg. */
  chart: string;
  /** The reading: ratios, where roomcast is not ahead and why, caveats. */
  findings: string[];
  /** Checks that failed (lost or duplicated messages, ...): printed, and the run exits with 1. */
  failures?: string[];
};

export type Benchmark = {
  /** Used by `--only`, for the chart's file name and the work folder. */
  name: string;
  title: string;
  run(context: BenchContext): Promise<BenchReport>;
};
