import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DynamoDBBatchResponse, SQSBatchResponse } from "aws-lambda";
import { createRoomcastQueues, createSqsClient, startSqsServer } from "../../local/sqs-server";
import { startSqsMapping } from "../../local/sqs-mapping";
import { startStreamMapping } from "../../local/stream-mapping";
import { createArchiveUnpacker, type UnpackedArchive } from "./pulumi-archive";
import {
  localLambdaEnv,
  startLambdaEnvironment,
  startManagementEndpoint,
  type LambdaEnvironment,
} from "./pulumi-lambda";
import type { MockedResource, ProgramRun } from "./pulumi-mocks";
import { freshTable } from "./table";

export type UnpackedLambda = UnpackedArchive & { fn: MockedResource; dir: string };

/**
 * The archives of the named functions (`roomcast-<stack>-<name>`) of a mocked `pulumi up`,
 * unpacked as Lambda unpacks them, each in a folder of its own (tests/support/pulumi-archive.ts).
 * Call in `beforeAll`; `remove()` in `afterAll`.
 */
export async function unpackLambdas(run: ProgramRun, stack: string, names: readonly string[]) {
  const workDir = mkdtempSync(join(tmpdir(), "roomcast-lambda-"));
  const unpackArchive = createArchiveUnpacker(workDir);
  const unpacked = new Map<string, UnpackedLambda>();
  for (const name of names) {
    const fn = run
      .ofType("aws:lambda/function:Function")
      .find((f) => f.inputs.name === `roomcast-${stack}-${name}`);
    if (!fn) throw new Error(`the program declares no function roomcast-${stack}-${name}`);
    const dir = join(workDir, name);
    unpacked.set(name, { fn, dir, ...(await unpackArchive(fn.inputs.code, dir)) });
  }
  return {
    has: (name: string) => unpacked.has(name),
    get(name: string): UnpackedLambda {
      const found = unpacked.get(name);
      if (!found) throw new Error(`${name} was not unpacked`);
      return found;
    },
    remove: () => rmSync(workDir, { recursive: true, force: true }),
  };
}

export type UnpackedLambdas = Awaited<ReturnType<typeof unpackLambdas>>;

export type LambdaBackendOptions = {
  /** Settings of every function on top of its Pulumi environment (e.g. INLINE_FANOUT_MAX). */
  env?: Record<string, string>;
};

/**
 * What the unpacked Lambdas talk to, on a fresh table: DynamoDB Local, a Management API
 * stand-in that takes only posts signed with the local keys, and an SQS server with
 * roomcast's queues. With the `stream` and `fanout` archives unpacked, the table's stream
 * feeds the packaged stream worker and the fan-out queue the packaged fan-out worker, as
 * their event source mappings do on AWS. Call in `beforeAll`; `stop()` in `afterAll`.
 */
export async function startLambdaBackend(lambdas: UnpackedLambdas, options: LambdaBackendOptions = {}) {
  const [table, management, sqsServer] = await Promise.all([
    freshTable("roomcast-lambda"),
    startManagementEndpoint(),
    startSqsServer(),
  ]);
  const sqs = createSqsClient(sqsServer.endpoint);
  const queues = await createRoomcastQueues(sqs, table.tableName);
  const queue = { endpoint: sqsServer.endpoint, url: queues.fanout.url };

  const envOf = (name: string) => {
    const { fn, dir } = lambdas.get(name);
    return { dir, env: { ...localLambdaEnv(fn, table, management.url, queue), ...options.env } };
  };
  // Warm execution environments per function, as Lambda keeps them: an invocation takes an
  // idle one or starts another (concurrent invocations get one each).
  const idleEnvironments = new Map<string, LambdaEnvironment[]>();
  const allEnvironments: LambdaEnvironment[] = [];

  /**
   * Runs a function's archive with its Pulumi environment, pointed at this backend, in a warm
   * execution environment. Without an event it only loads the archive, in a fresh `node` (a cold
   * start), which then stays warm for the function's next invocations, as Lambda keeps a sandbox.
   */
  async function invoke<R = unknown>(name: string, event?: unknown) {
    const { dir, env } = envOf(name);
    const idle = idleEnvironments.get(name) ?? [];
    idleEnvironments.set(name, idle);
    let environment = event === undefined ? undefined : idle.pop();
    if (!environment) {
      environment = startLambdaEnvironment(dir, env);
      allEnvironments.push(environment);
    }
    try {
      return await environment.invoke<R>(event);
    } finally {
      if (!environment.ended()) idle.push(environment);
    }
  }

  /** A worker's result; a crash throws, so the mapping retries the batch as Lambda would. */
  async function work<R>(name: string, event: unknown) {
    const { result, error } = await invoke<R>(name, event);
    if (error) throw new Error(`the ${name} archive failed: ${error}`);
    return result;
  }
  const withWorkers = lambdas.has("stream") && lambdas.has("fanout");
  const stream = withWorkers
    ? await startStreamMapping({
        dynamodb: table.client,
        tableName: table.tableName,
        handler: (event) => work<DynamoDBBatchResponse>("stream", event),
      })
    : undefined;
  const fanout = withWorkers
    ? startSqsMapping({
        client: sqs,
        queueUrl: queues.fanout.url,
        queueArn: queues.fanout.arn,
        handler: (event) => work<SQSBatchResponse>("fanout", event),
      })
    : undefined;

  return {
    table,
    management,
    queues,
    invoke,
    /** Invocations of the fan-out archive so far. */
    fanoutInvocations: () => fanout?.stats.invocations ?? 0,
    /** Resolves once the stream is read to its end and the fan-out queue is empty (twice: one feeds the other). */
    async idle() {
      for (let round = 0; round < 2; round++) {
        await stream?.idle(60_000);
        await fanout?.idle(60_000);
      }
    },
    async stop() {
      await Promise.all([stream?.stop(), fanout?.stop()]);
      await Promise.all(allEnvironments.map((environment) => environment.stop()));
      sqs.destroy();
      await Promise.all([table.drop(), management.close(), sqsServer.stop()]);
    },
  };
}

export type LambdaBackend = Awaited<ReturnType<typeof startLambdaBackend>>;
