import type { EnvironmentContext, JestEnvironmentConfig } from "@jest/environment";
import NodeEnvironment from "jest-environment-node";
import { acquireExclusive } from "./exclusive";

/** Jest's node environment; a file whose docblock says `@exclusive` runs beside no other such file. */
export default class ExclusiveNodeEnvironment extends NodeEnvironment {
  private readonly exclusive: boolean;
  private release?: () => void;

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    this.exclusive = "exclusive" in context.docblockPragmas;
  }

  override async setup(): Promise<void> {
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
