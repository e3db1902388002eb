/**
 * The environment is chosen by folder: files under a DynamoDB folder get a DynamoDB Local
 * of their own (tests/support/dynamodb-environment.ts); the others get plain node and pay
 * for no JVM. A file in a DynamoDB folder that starts its own (npm start, a restart storm)
 * says `@jest-environment ./tests/support/node-environment.ts`.
 */
const dynamodbFolders = ["handlers", "model", "stack", "storms", "security", "lambda"];
const nodeFolders = ["unit", "local", "infra", "workflows", "bench", "docs"];

// A test folder in neither list would silently never run.
const { readdirSync } = require("node:fs");
const unassigned = readdirSync(`${__dirname}/tests`, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && entry.name !== "support")
  .map((entry) => entry.name)
  .filter((name) => !dynamodbFolders.includes(name) && !nodeFolders.includes(name));
if (unassigned.length)
  throw new Error(`jest.config.js: put tests/${unassigned.join(", tests/")} in a project`);

const project = (displayName, folders, testEnvironment) => ({
  displayName,
  testEnvironment,
  roots: folders.map((folder) => `<rootDir>/tests/${folder}`),
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }] },
  // jest marks a file slower than this; tests/support/slow-files-reporter.js lists files over budget.
  slowTestThreshold: 30,
});

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    project("dynamodb", dynamodbFolders, "<rootDir>/tests/support/dynamodb-environment.ts"),
    project("node", nodeFolders, "<rootDir>/tests/support/node-environment.ts"),
  ],
  // Most files wait on timers, sockets and DynamoDB Local at times, so three workers keep 2 cores
  // busier than two: a fresh clone's .ci/run beside a busy core took 708 s with three (and the
  // test JVMs' serial collector), 767 s with two before (one run each). Files marked `@exclusive`
  // never run beside each other (tests/support/exclusive.ts).
  maxWorkers: 3,
  // Integration tests on 2 cores (DynamoDB Local, the stream, SQS): slow is not failing, a hang is.
  testTimeout: 120_000,
  testSequencer: "<rootDir>/tests/support/sequencer.js",
  reporters: ["default", "<rootDir>/tests/support/slow-files-reporter.js"],
  // v8 coverage: istanbul counters would leak into Pulumi's serialized Lambdas.
  coverageProvider: "v8",
};
