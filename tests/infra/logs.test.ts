import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { functionNames, logGroupName } from "../../scripts/log-groups";
import { repo } from "../support/child-process";
import { runProgram, type ProgramRun } from "../support/pulumi-mocks";

// `npm run logs`: the log groups it reads are the ones the program creates, and without credentials
// it says so in one line. It never reaches AWS: every AWS endpoint points at a closed loopback port.
let run: ProgramRun;
beforeAll(async () => {
  // With an authSecret, so the authorizer exists too.
  run = await runProgram("dev", { authSecret: "a-secret-of-at-least-32-characters-long" }, ["authSecret"], {
    serializeLambdas: false,
  });
}, 300_000);

// check 1: every function's log group, by the script's rule, is the one the program creates for it.
it("builds the log group name of every function the program creates", () => {
  const functions = run.ofType("aws:lambda/function:Function").map((fn) => fn.inputs.name as string);
  const logGroups = run
    .ofType("aws:cloudwatch/logGroup:LogGroup")
    .map((group) => group.inputs.name as string);
  expect(functions.sort()).toEqual(functionNames.map((name) => `roomcast-dev-${name}`).sort());
  for (const name of functionNames) expect(logGroups).toContain(logGroupName("dev", name));
});

/** A loopback port with nothing listening. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

/** `npm run logs -- ...args` with no AWS credentials anywhere: no variables, no ~/.aws, no instance metadata. */
async function logsWithoutCredentials(args: string[]) {
  const home = mkdtempSync(join(tmpdir(), "roomcast-nocreds-"));
  const endpoint = `http://127.0.0.1:${await closedPort()}`;
  const child = spawn(join(repo, "node_modules/.bin/tsx"), ["scripts/logs.ts", ...args], {
    cwd: repo,
    env: {
      PATH: process.env.PATH,
      HOME: home,
      AWS_CONFIG_FILE: join(home, "config"),
      AWS_SHARED_CREDENTIALS_FILE: join(home, "credentials"),
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_ENDPOINT_URL: endpoint,
    },
    stdio: "pipe",
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((done) => child.once("close", done));
  rmSync(home, { recursive: true, force: true });
  return { code, stdout, stderr };
}

// check 2: no credentials -> one clear line, a failing exit code, nothing on stdout.
it("says in one line that there are no AWS credentials, and exits 1", async () => {
  const result = await logsWithoutCredentials(["sendmessage", "--stack", "dev", "--region", "us-east-1"]);
  expect(result.code).toBe(1);
  expect(result.stdout).toBe("");
  expect(result.stderr.trim().split("\n")).toEqual([
    "npm run logs: no AWS credentials found: run `aws configure` or `aws sso login`, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
  ]);
});

// check 3: flags are checked before anything else: an unknown flag or function is a usage error.
it.each([
  [["sendmessage", "--tail"], "Unknown option '--tail'"],
  [["nosuchfunction", "--stack", "dev"], "one of: connect, disconnect"],
])("rejects %j with exit code 2", async (args, message) => {
  const result = await logsWithoutCredentials(args);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain(message);
});
