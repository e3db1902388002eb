import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { defaultConfig } from "../../handlers/config";
import { routes } from "../../handlers/routes";
import { infraDefaults, readStackConfig } from "../../infra/config";
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
  apiGatewayLogsRole: "true",
  maxMessageLength: "1000",
  fanoutConcurrency: "8",
};

let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram("prod", prodConfig);
}, 120_000);

const apiId = () => run.ofType("aws:apigatewayv2/api:Api")[0].id;

// check 1: throttling and retention follow the stack's config.
it("throttles the stage and keeps every log group as configured", () => {
  const [stage] = run.ofType("aws:apigatewayv2/stage:Stage");
  expect(stage.inputs.name).toBe("v1");
  expect(stage.inputs.defaultRouteSettings).toEqual({ throttlingRateLimit: 200, throttlingBurstLimit: 400 });
  const groups = run.ofType("aws:cloudwatch/logGroup:LogGroup");
  expect(groups.map((g) => g.inputs.retentionInDays)).toEqual(groups.map(() => 90));
});

// check 2: function size and the overridden handler settings reach every Lambda.
it("sizes the functions and overrides handler settings from config", () => {
  for (const fn of run.ofType("aws:lambda/function:Function")) {
    expect(fn.inputs).toMatchObject({ memorySize: 512, timeout: 10 });
    expect(fn.inputs.environment.variables).toMatchObject({
      MAX_MESSAGE_LENGTH: "1000",
      FANOUT_CONCURRENCY: "8",
      HISTORY_PAGE_MAX: "100",
    });
  }
});

// check 3: the configured stage scopes posting to connections, and the URL.
it("scopes ManageConnections and the URL to the configured stage", () => {
  const resources = run
    .ofType("aws:iam/rolePolicy:RolePolicy")
    .flatMap((p) => JSON.parse(p.inputs.policy).Statement)
    .filter((s) => s.Sid === "PostToConnections")
    .map((s) => s.Resource);
  expect(resources).toEqual(
    routes.map(() => `arn:aws:execute-api:${region}:${account}:${apiId()}/v1/POST/@connections/*`),
  );
  expect(run.outputs.url).toBe(`wss://${apiId()}.execute-api.${region}.amazonaws.com/v1`);
});

// check 4: outside dev the table is protected by default; an explicit setting wins.
it("protects the prod table from deletion by default and honours an explicit PITR setting", () => {
  const [table] = run.ofType("aws:dynamodb/table:Table");
  expect(table.inputs.deletionProtectionEnabled).toBe(true);
  expect(table.inputs.pointInTimeRecovery).toEqual({ enabled: false });
});

// check 5: opting in sets API Gateway's logging role, scoped to this account and region, kept on destroy.
it("sets API Gateway's account logging role when asked, without a `*` resource", () => {
  const [accountSettings] = run.ofType("aws:apigateway/account:Account");
  const role = run.named("aws:iam/role:Role", "roomcast-apigateway-logs");
  const policy = run.named("aws:iam/rolePolicy:RolePolicy", "roomcast-apigateway-logs");
  expect(accountSettings.inputs.cloudwatchRoleArn).toBe(role.state.arn);
  expect(JSON.parse(role.inputs.assumeRolePolicy).Statement[0].Principal).toEqual({
    Service: "apigateway.amazonaws.com",
  });
  expect(policy.inputs.role).toBe(role.id);
  const [statement] = JSON.parse(policy.inputs.policy).Statement;
  expect(statement.Resource).toBe(`arn:aws:logs:${region}:${account}:*`);
  expect(statement.Action).toContain("logs:PutLogEvents");
});

// check 6: with nothing set, only the `dev` stack goes without PITR and deletion protection.
it("protects every table but dev's by default", () => {
  pulumi.runtime.setAllConfig({});
  const defaults = (stack: string) => readStackConfig(new pulumi.Config("roomcast"), stack).table;
  expect(defaults("dev")).toEqual({ pointInTimeRecovery: false, deletionProtection: false });
  expect(defaults("staging")).toEqual({ pointInTimeRecovery: true, deletionProtection: true });
});

// check 7: a malformed handler setting fails the deployment, not the first cold start.
it("rejects a handler setting the Lambdas could not parse", () => {
  pulumi.runtime.setAllConfig({ "roomcast:historyPageMax": "2.5" });
  expect(() => readStackConfig(new pulumi.Config("roomcast"), "prod")).toThrow(
    "HISTORY_PAGE_MAX=2.5 is not a non-negative integer",
  );
});

// check 8: Pulumi.dev.yaml lists every setting, each at the default the code would use anyway.
it("Pulumi.dev.yaml sets every setting, each at its dev default", () => {
  const yaml = readFileSync(join(__dirname, "../../Pulumi.dev.yaml"), "utf8");
  const settings = Object.fromEntries(
    [...yaml.matchAll(/^ {2}roomcast:(\w+): "?([^"\n]*)"?$/gm)].map(([, key, value]) => [
      `roomcast:${key}`,
      value,
    ]),
  );
  const expectedKeys = [
    ...Object.keys(defaultConfig),
    ...Object.keys(infraDefaults),
    "stage",
    "pointInTimeRecovery",
    "deletionProtection",
  ];
  expect(Object.keys(settings).sort()).toEqual(expectedKeys.map((key) => `roomcast:${key}`).sort());
  pulumi.runtime.setAllConfig(settings);
  const fromFile = readStackConfig(new pulumi.Config("roomcast"), "dev");
  pulumi.runtime.setAllConfig({});
  expect(fromFile).toEqual(readStackConfig(new pulumi.Config("roomcast"), "dev"));
});
