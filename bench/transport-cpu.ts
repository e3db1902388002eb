/**
 * Benchmark 5: the sender's CPU per PostToConnection, for each way of making
 * one, so the lean transport (handlers/delivery/transport.ts) is picked by measurement:
 * the AWS SDK client, aws-lite, the SDK's own Smithy SignatureV4 with its Node
 * HTTP handler, aws4 on node:http, and roomcast's transport as built.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import awsLite from "@aws-lite/client";
import { Hash } from "@smithy/hash-node";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import aws4 from "aws4";
import pLimit from "p-limit";
import { ulid } from "ulid";
import { defaultConfig } from "../handlers/config";
import { createTransport } from "../handlers/delivery/transport";
import { localAws } from "../model/client";
import type { Benchmark } from "./lib/benchmark";
import { ms, times } from "./lib/format";
import { startManagementApiProcess } from "./lib/management-api-process";
import { summarize, type Summary } from "./lib/stats";
import { barChartSvg } from "./lib/svg-chart";

/** The budget for the sender's CPU per delivery. */
const budgetMs = 0.25;
/** A stage path, as in AWS: every candidate must put it before `/@connections/`. */
const stage = "bench";

/** One way of posting: resolves true when the Management API answered 2xx. */
type Poster = { post(connectionId: string, data: Buffer): Promise<boolean>; destroy(): void };
type Setup = { endpoint: string; concurrency: number };

const candidates = {
  transport: {
    label: "roomcast transport (handlers/delivery/transport.ts: aws4 + node:http, retries, timeout)",
    start: ({ endpoint, concurrency }: Setup): Poster => {
      const transport = createTransport({
        endpoint,
        ...localAws,
        maxAttempts: defaultConfig.postMaxAttempts,
        timeoutMs: 3000,
        maxSockets: concurrency,
      });
      return {
        post: async (id, data) => (await transport.post(id, data)) === "delivered",
        destroy: () => transport.destroy(),
      };
    },
  },
  sdk: {
    label: "AWS SDK v3: PostToConnectionCommand (roomcast today)",
    start: ({ endpoint, concurrency }: Setup): Poster => {
      const client = new ApiGatewayManagementApiClient({
        endpoint,
        ...localAws,
        maxAttempts: defaultConfig.postMaxAttempts,
        retryMode: "standard",
        requestHandler: { httpAgent: { keepAlive: true, maxSockets: concurrency } },
      });
      return {
        post: (id, data) =>
          client.send(new PostToConnectionCommand({ ConnectionId: id, Data: data })).then(
            () => true,
            () => false,
          ),
        destroy: () => client.destroy(),
      };
    },
  },
  awsLite: {
    label: "@aws-lite/client + @aws-lite/apigatewaymanagementapi",
    start: async ({ endpoint }: Setup): Promise<Poster> => {
      // aws-lite keeps one keep-alive agent per protocol for the whole process (no maxSockets);
      // the benchmark's own limit keeps its posts in flight at the same concurrency.
      const client = (await awsLite({
        region: localAws.region,
        ...localAws.credentials,
        plugins: [import("@aws-lite/apigatewaymanagementapi")],
        retries: defaultConfig.postMaxAttempts - 1,
        keepAlive: true,
      })) as unknown as {
        ApiGatewayManagementApi: {
          PostToConnection(params: { ApiUrl: string; ConnectionId: string; Data: Buffer }): Promise<unknown>;
        };
      };
      return {
        post: (id, data) =>
          client.ApiGatewayManagementApi.PostToConnection({
            ApiUrl: endpoint,
            ConnectionId: id,
            Data: data,
          }).then(
            () => true,
            () => false,
          ),
        destroy: () => undefined,
      };
    },
  },
  smithy: {
    label: "Smithy SignatureV4 (@smithy/signature-v4) + NodeHttpHandler",
    start: ({ endpoint, concurrency }: Setup): Poster => {
      const url = new URL(endpoint);
      const signer = new SignatureV4({
        service: "execute-api",
        ...localAws,
        sha256: Hash.bind(null, "sha256"),
      });
      const handler = new NodeHttpHandler({
        httpAgent: new HttpAgent({ keepAlive: true, maxSockets: concurrency }),
        requestTimeout: 3000,
      });
      return {
        async post(id, data) {
          const request = new HttpRequest({
            protocol: url.protocol,
            hostname: url.hostname,
            port: Number(url.port),
            method: "POST",
            path: `${url.pathname}/@connections/${encodeURIComponent(id)}`,
            headers: { host: url.host, "content-type": "application/octet-stream" },
            body: data,
          });
          const { response } = await handler.handle((await signer.sign(request)) as HttpRequest);
          const body = response.body as IncomingMessage;
          await new Promise((resolve) => body.once("end", resolve).resume());
          return response.statusCode >= 200 && response.statusCode < 300;
        },
        destroy: () => handler.destroy(),
      };
    },
  },
  aws4: {
    label: "aws4 + node:http keep-alive request (bare: no retry, no timeout)",
    start: ({ endpoint, concurrency }: Setup): Poster => {
      const url = new URL(endpoint);
      const agent = new HttpAgent({ keepAlive: true, maxSockets: concurrency });
      return {
        post(id, data) {
          const path = `${url.pathname}/@connections/${encodeURIComponent(id)}`;
          const signed = aws4.sign(
            {
              host: url.host,
              path,
              method: "POST",
              service: "execute-api",
              region: localAws.region,
              body: data,
            },
            localAws.credentials,
          );
          return new Promise((resolve, reject) => {
            const req = httpRequest(
              {
                hostname: url.hostname,
                port: url.port,
                path,
                method: "POST",
                headers: signed.headers,
                agent,
              },
              (res) => {
                res.once("end", () => resolve(res.statusCode === 200)).resume();
              },
            );
            req.once("error", reject);
            req.end(data);
          });
        },
        destroy: () => agent.destroy(),
      };
    },
  },
};
type CandidateKey = keyof typeof candidates;
const keys = Object.keys(candidates) as CandidateKey[];

type Result = { cpu: Summary; wall: Summary; peak: number };

export const transportCpu: Benchmark = {
  name: "transport-cpu",
  title: "Transport: sender CPU per PostToConnection",
  async run({ quick, progress, managementLatencyMs }) {
    const posts = quick ? 2000 : 5000;
    const trials = quick ? 3 : 7;
    const warmups = 2;
    const concurrency = defaultConfig.fanoutConcurrency;
    const api = startManagementApiProcess(managementLatencyMs);
    const setup = { endpoint: `${await api.url}/${stage}`, concurrency };
    // Real connection ids end in `=`, which every candidate must URL-encode.
    const ids = Array.from({ length: posts }, (_, i) => `conn${String(i).padStart(8, "0")}=`);
    const data = Buffer.from(
      JSON.stringify({
        type: "message",
        room: "lobby",
        id: ulid(),
        from: "sender",
        text: "x".repeat(100),
        sentAt: new Date().toISOString(),
      }),
    );
    const posters = new Map<CandidateKey, Poster>();
    const samples = new Map(keys.map((key) => [key, { cpu: [] as number[], wall: [] as number[], peak: 0 }]));
    const failures: string[] = [];
    try {
      for (const key of keys) posters.set(key, await candidates[key].start(setup));
      for (let trial = -warmups; trial < trials; trial++) {
        // The order rotates so that no candidate always runs first (or right after the SDK's garbage).
        const order = keys.map((_, i) => keys[(i + Math.max(trial + warmups, 0)) % keys.length]);
        for (const key of order) {
          progress(
            `${posts} posts via ${key}, ${trial < 0 ? `warm-up ${trial + warmups + 1}/${warmups}` : `trial ${trial + 1}/${trials}`}`,
          );
          const poster = posters.get(key)!;
          await api.clear();
          const limit = pLimit(concurrency);
          const cpu = process.cpuUsage();
          const started = performance.now();
          const answers = await Promise.all(ids.map((id) => limit(() => poster.post(id, data))));
          const wall = performance.now() - started;
          const used = process.cpuUsage(cpu);
          const delivered = answers.filter(Boolean).length;
          if (delivered !== posts)
            failures.push(`${key} delivered ${delivered} of ${posts} (trial ${trial + 1})`);
          if (trial < 0) continue;
          const sample = samples.get(key)!;
          sample.cpu.push((used.user + used.system) / 1000 / posts);
          sample.wall.push(wall);
          sample.peak = Math.max(sample.peak, await api.peak());
        }
      }
    } finally {
      for (const poster of posters.values()) poster.destroy();
      api.stop();
    }

    const results = new Map(
      [...samples].map(([key, s]) => [key, { cpu: summarize(s.cpu), wall: summarize(s.wall), peak: s.peak }]),
    ) as Map<CandidateKey, Result>;
    const cpuOf = (key: CandidateKey) => results.get(key)!.cpu.median;
    const libraries = keys.filter((key) => key !== "transport");
    const fastest = [...libraries].sort((a, b) => cpuOf(a) - cpuOf(b))[0];
    const within = libraries.filter((key) => cpuOf(key) <= budgetMs);
    return {
      method:
        `${posts} PostToConnection calls per trial from this process, ${concurrency} in flight at once, each a ` +
        `${data.length} B JSON frame to a different connection id, against the loopback Management API stand-in ` +
        `(tests/support/management-api.ts) in **another process** answering after ${managementLatencyMs} ms, behind ` +
        `a stage path (\`/${stage}/@connections/{id}\`). Every candidate keeps its sockets alive and signs SigV4 ` +
        `(\`execute-api\`). CPU is this process's user + system time (\`process.cpuUsage\`) around the ${posts} ` +
        `posts, divided by ${posts}: median / p95 over ${trials} trials after ${warmups} warm-up rounds, the ` +
        `candidates interleaved in a rotating order. ${process.version}.`,
      tables: [
        {
          title: `Sender CPU per delivery: ${posts} posts, ${concurrency} at a time, +${managementLatencyMs} ms per answer, ${trials} trials`,
          columns: [
            { label: "candidate", align: "left" },
            { label: "CPU ms per delivery p50 / p95" },
            { label: `wall ms for ${posts} posts p50` },
            { label: "peak in flight" },
            { label: "SDK ÷ this" },
            { label: `≤ ${budgetMs} ms` },
          ],
          rows: keys.map((key) => {
            const r = results.get(key)!;
            return [
              candidates[key].label,
              `${r.cpu.median.toFixed(3)} / ${r.cpu.p95.toFixed(3)}`,
              ms(r.wall.median),
              String(r.peak),
              times(cpuOf("sdk"), r.cpu.median),
              r.cpu.median <= budgetMs ? "yes" : "no",
            ];
          }),
        },
      ],
      chart: barChartSvg({
        title: `Sender CPU per PostToConnection, median (budget ${budgetMs} ms)`,
        yLabel: "CPU ms per delivery",
        groups: [`${posts} posts, ${concurrency} in flight`],
        series: keys.map((key) => ({ name: candidates[key].label, values: [cpuOf(key)] })),
        format: (value) => value.toFixed(3),
      }),
      findings: [
        `Fastest library: ${candidates[fastest].label}, ${cpuOf(fastest).toFixed(3)} ms per delivery ` +
          `(${times(cpuOf("sdk"), cpuOf(fastest))} less CPU than the SDK's ${cpuOf("sdk").toFixed(3)} ms). ` +
          `Within the ${budgetMs} ms budget: ${within.length ? within.join(", ") : "none"}.`,
        `roomcast's transport, with its retries and per-request timeout: ${cpuOf("transport").toFixed(3)} ms per ` +
          `delivery (${times(cpuOf("sdk"), cpuOf("transport"))} less than the SDK in the same run). The budget is ` +
          `a figure of the machine it was set on: CPU per post varies from machine to machine, so the run ` +
          `reports it and fails only on lost posts; the ratio to the SDK is what carries over.`,
      ],
      failures,
    };
  },
};
