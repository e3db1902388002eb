import type { EnvironmentContext, JestEnvironmentConfig } from "@jest/environment";
import NodeEnvironment from "jest-environment-node";
import { acquireExclusive } from "./exclusive";

/**
 * Every JVM a test file starts (its DynamoDB Local, npm start's, a restart storm's) lives a few
 * minutes at most: the JIT's C2 tier costs more CPU than it wins back there. Measured with it off
 * (C1 only): a start to ready 3.9-5.2 CPU-s instead of 6.2-8.7; capacity.test 41 CPU-s instead of
 * 47, private-rooms.test 32 instead of 38, same wall. Nor does G1's concurrent collection pay on
 * a small heap: with the serial collector capacity.test's JVM took 17.8-18.0 CPU-s instead of
 * 19.7 (the file 31.1-31.8 instead of 33.4-34.5). Child processes inherit the setting.
 */
const shortLivedJvm = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC";

/** Jest's node environment; a file whose docblock says `@exclusive` runs beside no other such file. */
export default class ExclusiveNodeEnvironment extends NodeEnvironment {
  private readonly exclusive: boolean;
  private release?: () => void;

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    this.exclusive = "exclusive" in context.docblockPragmas;
  }

  override async setup(): Promise<void> {
    const javaOptions = process.env.JDK_JAVA_OPTIONS ?? "";
    if (!javaOptions.includes(shortLivedJvm))
      process.env.JDK_JAVA_OPTIONS = `${javaOptions} ${shortLivedJvm}`.trim();
    if (this.exclusive) this.release = await acquireExclusive();
    await super.setup();
  }

  override async teardown(): Promise<void> {
    try {
      await super.teardown();
    } finally {
      this.release?.();
    }
  }
}
