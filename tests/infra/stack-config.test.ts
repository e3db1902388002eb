import { readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import * as pulumi from "@pulumi/pulumi";
import { defaultConfig } from "../../handlers/config";
import { routes } from "../../handlers/routes";
import { infraDefaults } from "../../infra/defaults";
import { readStackConfig } from "../../infra/config";
import { account, region, runProgram, type ProgramRun } from "../support/pulumi-mocks";

// A `prod` stack with non-default settings, as Pulumi.prod.yaml would set them.
const prodConfig = {
  stage: "v1",
  memorySize: "512",
  timeoutSeconds: "10",
  logRetentionDays: "90",
  throttlingRateLimit: "200",
  throttlingBurstLimit: "400",
  pointInTimeRecovery: "false",
  // The account's logs role is managed elsewhere.
  apiGatewayLogsRole: "false",
  maxMessageLength: "1000",
  fanoutConcurrency: "8",
  streamMemorySize: "512",
  fanoutMemorySize: "2048",
  fanoutTimeoutSeconds: "120",
  fanoutMaxConcurrency: "40",
  fanoutMaxReceiveCount: "3",
  streamMaximumRetryAttempts: "4",
  streamParallelizationFactor: "2",
  // A custom domain whose DNS lives outside Route 53.
  domainName: "chat.example.org",
  certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/5d1c7e0a-93b2-4f7e-a1c6-7b2e9d4f0a18",
};

let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram("prod", prodConfig, [], { serializeLambdas: false });
}, 300_000);

const apiId = () => run.ofType("aws:apigatewayv2/api:Api")[0].id;

// check 1: throttling and retention follow the stack's config.
it("throttles the stage and keeps every log group as configured", () => {
  const [stage] = run.ofType("aws:apigatewayv2/stage:Stage");
  expect(stage.inputs.name).toBe("v1");
  expect(stage.inputs.defaultRouteSettings).toEqual({ throttlingRateLimit: 200, throttlingBurstLimit: 400 });
  const groups = run.ofType("aws:cloudwatch/logGroup:LogGroup");
  expect(groups.map((g) => g.inputs.retentionInDays)).toEqual(groups.map(() => 90));
});

// check 2: function sizes and the overridden handler settings reach every Lambda.
it("sizes the functions and overrides handler settings from config", () => {
  const sizes: Record<string, object> = {
    "roomcast-prod-stream": { memorySize: 512, timeout: 60 },
    // The room sweep is sized as the stream worker.
    "roomcast-prod-sweep": { memorySize: 512, timeout: 60 },
    "roomcast-prod-fanout": { memorySize: 2048, timeout: 120 },
  };
  for (const fn of run.ofType("aws:lambda/function:Function")) {
    expect(fn.inputs).toMatchObject(sizes[fn.inputs.name] ?? { memorySize: 512, timeout: 10 });
    expect(fn.inputs.environment.variables).toMatchObject({
      MAX_MESSAGE_LENGTH: "1000",
      FANOUT_CONCURRENCY: "8",
      HISTORY_PAGE_MAX: "100",
    });
  }
});

// check 3: the configured stage scopes posting to connections and the management endpoint.
it("scopes ManageConnections and the management endpoint to the configured stage", () => {
  const resources = run
    .ofType("aws:iam/rolePolicy:RolePolicy")
    .flatMap((p) => JSON.parse(p.inputs.policy).Statement)
    .filter((s) => s.Sid === "PostToConnections")
    .map((s) => s.Resource);
  expect(resources.length).toBeGreaterThan(0);
  for (const resource of resources)
    expect(resource).toBe(`arn:aws:execute-api:${region}:${account}:${apiId()}/v1/POST/@connections/*`);
  expect(run.outputs.managementEndpoint).toBe(`https://${apiId()}.execute-api.${region}.amazonaws.com/v1`);
  expect(routes.length).toBeGreaterThan(0);
});

// check 4: outside dev the table is protected by default; an explicit setting wins.
it("protects the prod table from deletion by default and honours an explicit PITR setting", () => {
  const [table] = run.ofType("aws:dynamodb/table:Table");
  expect(table.inputs.deletionProtectionEnabled).toBe(true);
  expect(table.inputs.pointInTimeRecovery).toEqual({ enabled: false });
});

// check 5: opting out leaves API Gateway's account settings alone.
it("leaves API Gateway's account-wide logs role alone when apiGatewayLogsRole is false", () => {
  expect(run.ofType("aws:apigateway/account:Account")).toEqual([]);
  expect(run.ofType("aws:iam/role:Role").map((r) => r.name)).not.toContain("roomcast-apigateway-logs");
});

// check 6: the fan-out tier follows its settings.
it("sizes the queue and both mappings from config", () => {
  const [jobs] = run
    .ofType("aws:sqs/queue:Queue")
    .filter((q) => q.inputs.name === "roomcast-prod-fanout.fifo");
  expect(jobs.inputs.visibilityTimeoutSeconds).toBe(6 * 120);
  expect(JSON.parse(jobs.inputs.redrivePolicy).maxReceiveCount).toBe(3);
  const mappings = run.ofType("aws:lambda/eventSourceMapping:EventSourceMapping").map((m) => m.inputs);
  expect(mappings).toContainEqual(
    expect.objectContaining({ maximumRetryAttempts: 4, parallelizationFactor: 2 }),
  );
  expect(mappings).toContainEqual(expect.objectContaining({ scalingConfig: { maximumConcurrency: 40 } }));
});

// check 7: a custom domain without a hosted zone: domain name and mapping, no DNS record; the URL follows.
it("creates the custom domain without a DNS record when no hosted zone is given", () => {
  expect(run.ofType("aws:apigatewayv2/domainName:DomainName").map((d) => d.inputs.domainName)).toEqual([
    "chat.example.org",
  ]);
  expect(run.ofType("aws:apigatewayv2/apiMapping:ApiMapping")).toHaveLength(1);
  expect(run.ofType("aws:route53/record:Record")).toEqual([]);
  expect(run.outputs.url).toBe("wss://chat.example.org");
});

// check 8: with nothing set, only the `dev` stack goes without PITR and deletion protection.
it("protects every table but dev's by default", () => {
  pulumi.runtime.setAllConfig({});
  const defaults = (stack: string) => readStackConfig(new pulumi.Config("roomcast"), stack).table;
  expect(defaults("dev")).toEqual({ pointInTimeRecovery: false, deletionProtection: false });
  expect(defaults("staging")).toEqual({ pointInTimeRecovery: true, deletionProtection: true });
});

// check 9: settings AWS would refuse fail `pulumi preview`: a fan-out concurrency under 2, a domain without certificate.
it("rejects a fanoutMaxConcurrency outside 2..1000 and a domainName without certificateArn", () => {
  pulumi.runtime.setAllConfig({ "roomcast:fanoutMaxConcurrency": "1" });
  expect(() => readStackConfig(new pulumi.Config("roomcast"), "prod")).toThrow(
    "roomcast:fanoutMaxConcurrency must be between 2 and 1000",
  );
  pulumi.runtime.setAllConfig({ "roomcast:domainName": "chat.example.org" });
  expect(() => readStackConfig(new pulumi.Config("roomcast"), "prod")).toThrow(
    "roomcast:domainName needs a certificateArn",
  );
  pulumi.runtime.setAllConfig({});
});

// check 10: a malformed handler setting fails the deployment, not the first cold start.
it("rejects a handler setting the Lambdas could not parse", () => {
  pulumi.runtime.setAllConfig({ "roomcast:historyPageMax": "2.5" });
  expect(() => readStackConfig(new pulumi.Config("roomcast"), "prod")).toThrow(
    "HISTORY_PAGE_MAX=2.5 is not a non-negative integer",
  );
});

// check 11: Pulumi.dev.yaml lists every setting, each at the default the code would use anyway.
it("Pulumi.dev.yaml sets every setting, each at its dev default", () => {
  const { config } = load(readFileSync(join(__dirname, "../../Pulumi.dev.yaml"), "utf8")) as {
    config: Record<string, unknown>;
  };
  // Pulumi hands a structured value (reservedConcurrency) to the program as JSON.
  const settings = Object.fromEntries(
    Object.entries(config)
      .filter(([key]) => key.startsWith("roomcast:"))
      .map(([key, value]) => [key, typeof value === "object" ? JSON.stringify(value) : String(value)]),
  );
  const expectedKeys = new Set([
    ...Object.keys(defaultConfig),
    ...Object.keys(infraDefaults),
    "stage",
    "pointInTimeRecovery",
    "deletionProtection",
  ]);
  expect(Object.keys(settings).sort()).toEqual([...expectedKeys].map((key) => `roomcast:${key}`).sort());
  pulumi.runtime.setAllConfig(settings);
  const fromFile = readStackConfig(new pulumi.Config("roomcast"), "dev");
  pulumi.runtime.setAllConfig({});
  expect(fromFile).toEqual(readStackConfig(new pulumi.Config("roomcast"), "dev"));
});
