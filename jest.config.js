/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }] },
  // v8 coverage: istanbul counters would leak into Pulumi's serialized Lambdas.
  coverageProvider: "v8",
  globalSetup: "<rootDir>/tests/support/global-setup.ts",
  globalTeardown: "<rootDir>/tests/support/global-teardown.ts",
  // Integration tests on 2 cores (DynamoDB Local, the stream, SQS): slow is not failing, a hang is.
  testTimeout: 120_000,
};
