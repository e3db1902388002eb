/** @type {import('jest').Config} */
module.exports = {
  // Each test file gets a DynamoDB Local of its own (tests/support/dynamodb-environment.ts).
  testEnvironment: "<rootDir>/tests/support/dynamodb-environment.ts",
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }] },
  // v8 coverage: istanbul counters would leak into Pulumi's serialized Lambdas.
  coverageProvider: "v8",
  // Integration tests on 2 cores (DynamoDB Local, the stream, SQS): slow is not failing, a hang is.
  testTimeout: 120_000,
};
