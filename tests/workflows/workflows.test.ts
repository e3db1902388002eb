import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";

/**
 * What the delivery pipeline must guarantee beyond "actionlint is happy": who may comment on PRs and
 * mint OIDC tokens, that no long-lived AWS key is used, that prod deploys from the `prod` environment
 * after dev, one deploy per stack at a time, and that docs/ci.md covers every secret, variable and
 * OIDC subject the workflows use.
 */

type Step = {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
};
type Job = {
  name?: string;
  uses?: string;
  needs?: string | string[];
  if?: string;
  environment?: string | { name: string; url?: string };
  permissions?: string | Record<string, string>;
  concurrency?: string | { group: string; "cancel-in-progress"?: boolean | string };
  strategy?: { matrix?: Record<string, unknown>; "fail-fast"?: boolean };
  steps?: Step[];
};
type Workflow = {
  name?: string;
  on: Record<string, Record<string, unknown> | null>;
  permissions?: string | Record<string, string>;
  concurrency?: unknown;
  jobs: Record<string, Job>;
};

const ROOT = path.join(__dirname, "..", "..");
const WORKFLOWS = path.join(ROOT, ".github", "workflows");
const files = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));
const text: Record<string, string> = Object.fromEntries(
  files.map((f) => [f, readFileSync(path.join(WORKFLOWS, f), "utf8")]),
);
const docs = readFileSync(path.join(ROOT, "docs", "ci.md"), "utf8");

const workflows: Record<string, Workflow> = {};
beforeAll(async () => {
  // js-yaml comes with @pulumi/pulumi (a devDependency) and has no bundled types: hence the narrow cast.
  const spec = "js-yaml";
  const { load } = (await import(spec)) as { load: (source: string) => unknown };
  for (const f of files) workflows[f] = load(text[f]) as Workflow;
});

const needsOf = (job: Job) => (job.needs === undefined ? [] : ([] as string[]).concat(job.needs));
const envOf = (job: Job) => (typeof job.environment === "object" ? job.environment.name : job.environment);
/** The environment of each matrix stack a job runs for (`preview-${{ matrix.stack }}` -> preview-dev, ...). */
const envsByStack = (job: Job): Record<string, string | undefined> => {
  const stacks = (job.strategy?.matrix?.stack as string[] | undefined) ?? [undefined];
  return Object.fromEntries(
    stacks.map((stack) => [stack ?? "", envOf(job)?.replace("${{ matrix.stack }}", stack ?? "")]),
  );
};
const stepsUsing = (job: Job, action: string) =>
  (job.steps ?? []).filter((s) => s.uses !== undefined && s.uses.split("@")[0] === action);
const allJobs = () =>
  Object.entries(workflows).flatMap(([file, wf]) =>
    Object.entries(wf.jobs).map(([id, job]) => ({ file, id, job })),
  );
const pulumiStep = (job: Job) => {
  const steps = stepsUsing(job, "pulumi/actions");
  expect(steps).toHaveLength(1);
  return steps[0];
};

describe("every workflow", () => {
  test("uses no long-lived AWS keys anywhere", () => {
    for (const f of files) {
      expect(text[f]).not.toMatch(
        /aws-access-key-id|aws-secret-access-key|aws_access_key_id|aws_secret_access_key/i,
      );
      expect(text[f]).not.toMatch(/aws-session-token|aws_session_token/i);
    }
  });

  test("sets least-privilege top-level permissions (contents: read, nothing written)", () => {
    for (const f of files) expect(workflows[f].permissions).toEqual({ contents: "read" });
  });

  test("pins every action to a major version, and local reusable workflows exist and are callable", () => {
    const uses = allJobs().flatMap(({ job }) => [job.uses, ...(job.steps ?? []).map((s) => s.uses)]);
    const refs = uses.filter((u): u is string => u !== undefined);
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) {
      if (ref.startsWith("./")) {
        // The wasm actionlint cannot open local reusable workflows, so check them here.
        const called = path.join(ROOT, ref);
        expect(existsSync(called)).toBe(true);
        expect(Object.keys(workflows[path.basename(called)].on)).toEqual(["workflow_call"]);
      } else {
        expect(ref).toMatch(/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@v\d+$/);
      }
    }
  });

  test("every job that gets AWS credentials uses OIDC: id-token write and the role from vars.AWS_ROLE_ARN", () => {
    const awsJobs = allJobs().filter(
      ({ job }) => stepsUsing(job, "aws-actions/configure-aws-credentials").length,
    );
    expect(awsJobs.map(({ file, id }) => `${file}:${id}`).sort()).toEqual([
      "deploy.yml:dev",
      "deploy.yml:prod",
      "pull-request.yml:preview",
    ]);
    for (const { job } of awsJobs) {
      expect(job.permissions).toMatchObject({ "id-token": "write", contents: "read" });
      const [creds] = stepsUsing(job, "aws-actions/configure-aws-credentials");
      expect(creds.uses).toBe("aws-actions/configure-aws-credentials@v4");
      expect(creds.with).toMatchObject({
        "role-to-assume": "${{ vars.AWS_ROLE_ARN }}",
        "aws-region": "${{ vars.AWS_REGION }}",
      });
      // Credentials come before Pulumi runs.
      const steps = job.steps ?? [];
      expect(steps.indexOf(creds)).toBeLessThan(steps.indexOf(pulumiStep(job)));
    }
  });

  test("only jobs that need it may mint OIDC tokens or write to PRs", () => {
    for (const { file, id, job } of allJobs()) {
      const perms = typeof job.permissions === "object" ? job.permissions : {};
      if (perms["id-token"] === "write")
        expect(stepsUsing(job, "aws-actions/configure-aws-credentials")).toHaveLength(1);
      if (perms["pull-requests"] === "write") expect(`${file}:${id}`).toBe("pull-request.yml:preview");
    }
  });

  test("every Pulumi step gets PULUMI_ACCESS_TOKEN from secrets and runs after the tests", () => {
    const pulumiJobs = allJobs().filter(({ job }) => stepsUsing(job, "pulumi/actions").length);
    expect(pulumiJobs).toHaveLength(3);
    for (const { job } of pulumiJobs) {
      const step = pulumiStep(job);
      expect(step.uses).toBe("pulumi/actions@v6");
      expect(step.env).toEqual({ PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}" });
      expect(needsOf(job)).toContain("test");
      // The Pulumi program is TypeScript: its dependencies are installed before Pulumi runs it.
      const steps = job.steps ?? [];
      expect(steps.findIndex((s) => s.run === "npm ci")).toBeGreaterThanOrEqual(0);
      expect(steps.findIndex((s) => s.run === "npm ci")).toBeLessThan(steps.indexOf(step));
    }
  });
});

describe("test.yml (reusable)", () => {
  const job = () => Object.values(workflows["test.yml"].jobs)[0];

  test("is only callable, and is called by pull-request.yml and deploy.yml", () => {
    expect(Object.keys(workflows["test.yml"].on)).toEqual(["workflow_call"]);
    expect(Object.keys(workflows["test.yml"].jobs)).toHaveLength(1);
    for (const f of ["pull-request.yml", "deploy.yml"]) {
      expect(workflows[f].jobs.test.uses).toBe("./.github/workflows/test.yml");
    }
  });

  test("sets up Node 22 with the npm cache, Java 17 (Temurin) and /usr/bin/chromium", () => {
    expect(stepsUsing(job(), "actions/checkout")).toHaveLength(1);
    expect(stepsUsing(job(), "actions/setup-node")[0].with).toEqual({ "node-version": 22, cache: "npm" });
    expect(stepsUsing(job(), "actions/setup-java")[0].with).toEqual({
      distribution: "temurin",
      "java-version": "17",
    });
    const chromium = (job().steps ?? []).filter((s) => s.run?.includes("/usr/bin/chromium"));
    expect(chromium).toHaveLength(1);
    expect(chromium[0].run).toMatch(/\/usr\/bin\/chromium --version/);
  });

  test("runs npm ci, npm run check and npm test, in that order, after the setup", () => {
    const steps = job().steps ?? [];
    const at = (run: string) => steps.findIndex((s) => s.run === run);
    expect(at("npm ci")).toBeGreaterThan(steps.findIndex((s) => s.run?.includes("/usr/bin/chromium")));
    expect(at("npm ci")).toBeGreaterThan(steps.indexOf(stepsUsing(job(), "actions/setup-java")[0]));
    expect(at("npm run check")).toBeGreaterThan(at("npm ci"));
    expect(at("npm test")).toBeGreaterThan(at("npm run check"));
    expect(steps[steps.length - 1].run).toBe("npm test");
  });
});

describe("pull-request.yml", () => {
  const wf = () => workflows["pull-request.yml"];
  const preview = () => wf().jobs.preview;

  test("runs on pull requests", () => {
    expect(Object.keys(wf().on)).toEqual(["pull_request"]);
  });

  test("previews dev and prod after the tests pass", () => {
    expect(needsOf(preview())).toEqual(["test"]);
    expect(preview().strategy?.matrix).toEqual({ stack: ["dev", "prod"] });
    expect(preview().strategy?.["fail-fast"]).toBe(false);
    // Each stack's preview in an environment of its own, so each gets only its own stack's Pulumi token.
    expect(envsByStack(preview())).toEqual({ dev: "preview-dev", prod: "preview-prod" });
  });

  test("may comment on the PR and mint an OIDC token, and nothing more", () => {
    expect(preview().permissions).toEqual({
      contents: "read",
      "pull-requests": "write",
      "id-token": "write",
    });
  });

  test("runs pulumi preview for the matrix stack and comments on the PR", () => {
    const step = pulumiStep(preview());
    expect(step.with).toMatchObject({
      command: "preview",
      "comment-on-pr": true,
      "github-token": "${{ secrets.GITHUB_TOKEN }}",
    });
    expect(step.with?.["stack-name"]).toMatch(/matrix\.stack/);
    expect(step.with?.["stack-name"]).toMatch(/vars\.PULUMI_ORG/);
  });
});

describe("Pulumi tokens (what a pushed branch can reach)", () => {
  const tokenJobs = () => allJobs().filter(({ job }) => stepsUsing(job, "pulumi/actions").length);

  test("every job with a Pulumi token runs in an environment: there is no repository-wide token", () => {
    const without = tokenJobs().flatMap(({ file, id, job }) =>
      Object.entries(envsByStack(job))
        .filter(([, env]) => env === undefined)
        .map(([stack]) => `${file}:${id} ${stack}`),
    );
    expect(without).toEqual([]);
  });

  test("prod's stack is only touched from environments of its own, never from one dev uses", () => {
    const stackEnvs = tokenJobs().flatMap(({ job }) =>
      Object.entries(envsByStack(job)).map(([stack, env]) => ({
        stack: stack || (/'prod'/.test(String(pulumiStep(job).with?.["stack-name"])) ? "prod" : "dev"),
        env: env!,
      })),
    );
    const prodEnvs = new Set(stackEnvs.filter((s) => s.stack === "prod").map((s) => s.env));
    const devEnvs = new Set(stackEnvs.filter((s) => s.stack === "dev").map((s) => s.env));
    expect([...prodEnvs].sort()).toEqual(["preview-prod", "prod"]);
    expect([...devEnvs].sort()).toEqual(["dev", "preview-dev"]);
  });

  test("docs/ci.md makes the token an environment secret, protects preview-prod and explains the boundary", () => {
    expect(docs).toMatch(/## Trust boundary/);
    expect(docs).toMatch(
      /`PULUMI_ACCESS_TOKEN` *\| secret *\| environments `dev`, `prod`, `preview-dev`, `preview-prod` \(never the repository\)/,
    );
    expect(docs).toMatch(/gh secret set PULUMI_ACCESS_TOKEN --env preview-prod/);
    expect(docs).not.toMatch(/^gh secret set PULUMI_ACCESS_TOKEN\s*(#.*)?$/m);
    const setup = docs.slice(docs.indexOf("## GitHub environments"));
    expect(setup).toMatch(/\*\*`preview-prod`\*\*[^\n]*\n(?:[^\n]*\n){0,6}[^\n]*_Required reviewers_/);
  });
});

describe("deploy.yml", () => {
  const wf = () => workflows["deploy.yml"];
  const dev = () => wf().jobs.dev;
  const prod = () => wf().jobs.prod;

  test("runs on push to main and on demand", () => {
    expect(wf().on.push).toEqual({ branches: ["main"] });
    const dispatch = wf().on.workflow_dispatch as { inputs: { stack: { type: string; options: string[] } } };
    expect(dispatch.inputs.stack).toMatchObject({ type: "choice", options: ["dev", "prod"] });
  });

  test("deploys dev from environment dev after the tests", () => {
    expect(needsOf(dev())).toEqual(["test"]);
    expect(envOf(dev())).toBe("dev");
    expect(pulumiStep(dev()).with).toMatchObject({ command: "up" });
    expect(pulumiStep(dev()).with?.["stack-name"]).toMatch(/'dev'/);
    expect(pulumiStep(dev()).with?.["stack-name"]).not.toMatch(/prod/);
  });

  test("deploys prod from environment prod (required reviewers), after dev, only from main", () => {
    expect(envOf(prod())).toBe("prod");
    expect(needsOf(prod()).sort()).toEqual(["dev", "test"]);
    expect(pulumiStep(prod()).with).toMatchObject({ command: "up" });
    expect(pulumiStep(prod()).with?.["stack-name"]).toMatch(/'prod'/);
    expect(pulumiStep(prod()).with?.["stack-name"]).not.toMatch(/dev/);
    const condition = prod().if ?? "";
    expect(condition).toContain("github.ref == 'refs/heads/main'");
    expect(condition).toContain("needs.test.result == 'success'");
    expect(condition).toContain("needs.dev.result == 'success'");
    // Nothing else can touch prod: no other job in any workflow uses the prod environment.
    const prodJobs = allJobs().filter(({ job }) => envOf(job) === "prod");
    expect(prodJobs.map(({ file, id }) => `${file}:${id}`)).toEqual(["deploy.yml:prod"]);
  });

  test("never runs two deploys of the same stack at once", () => {
    const groups = [dev(), prod()].map((job) => {
      expect(typeof job.concurrency).toBe("object");
      const c = job.concurrency as { group: string; "cancel-in-progress"?: boolean };
      // A deploy in progress is never cancelled halfway (that would leave the stack locked/half-updated).
      expect(c["cancel-in-progress"]).toBe(false);
      return c.group;
    });
    expect(groups[0]).toMatch(/dev/);
    expect(groups[1]).toMatch(/prod/);
    expect(new Set(groups).size).toBe(2);
    // Static names: the group must not depend on the run, branch or event, or deploys could overlap.
    for (const g of groups) expect(g).not.toMatch(/\$\{\{/);
  });
});

describe("docs/ci.md", () => {
  test("names every secret and variable the workflows read", () => {
    const names = new Set(
      Object.values(text).flatMap((t) =>
        [...t.matchAll(/\b(?:secrets|vars)\.([A-Z0-9_]+)/g)].map((m) => m[1]),
      ),
    );
    names.delete("GITHUB_TOKEN"); // provided by GitHub
    expect([...names].sort()).toEqual(["AWS_REGION", "AWS_ROLE_ARN", "PULUMI_ACCESS_TOKEN", "PULUMI_ORG"]);
    for (const name of names) expect(docs).toContain(`\`${name}\``);
  });

  test("its OIDC trust policies are valid JSON and trust exactly the subjects the workflows present", () => {
    type Policy = {
      Version: string;
      Statement: {
        Effect: string;
        Principal: { Federated: string };
        Action: string;
        Condition: { StringEquals: Record<string, string | string[]>; StringLike?: unknown };
      }[];
    };
    const policies = [...docs.matchAll(/```json\n([\s\S]*?)```/g)]
      .map((m) => m[1])
      .filter((block) => block.includes('"Statement"'))
      .map((block) => JSON.parse(block) as Policy);
    expect(policies.length).toBeGreaterThanOrEqual(1);

    const subjects = new Set<string>();
    for (const policy of policies) {
      expect(policy.Version).toBe("2012-10-17");
      for (const st of policy.Statement) {
        expect(st).toMatchObject({ Effect: "Allow", Action: "sts:AssumeRoleWithWebIdentity" });
        expect(st.Principal.Federated).toMatch(
          /^arn:aws:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/,
        );
        expect(st.Condition.StringLike).toBeUndefined();
        expect(st.Condition.StringEquals["token.actions.githubusercontent.com:aud"]).toBe(
          "sts.amazonaws.com",
        );
        for (const sub of ([] as string[]).concat(
          st.Condition.StringEquals["token.actions.githubusercontent.com:sub"],
        )) {
          expect(sub).toMatch(/^repo:OWNER\/REPO:[a-z_]+(:[a-z-]+)?$/); // one repository, no wildcards
          subjects.add(sub.replace(/^repo:OWNER\/REPO:/, ""));
        }
      }
    }

    // The `sub` GitHub puts in the token: environment:<name> for jobs with an environment, else the event.
    const expected = new Set<string>();
    for (const { file, job } of allJobs()) {
      const perms = typeof job.permissions === "object" ? job.permissions : {};
      if (perms["id-token"] !== "write") continue;
      const envs = Object.values(envsByStack(job));
      if (envs.every((env) => env !== undefined)) {
        for (const env of envs) expected.add(`environment:${env}`);
      } else {
        expect(Object.keys(workflows[file].on)).toEqual(["pull_request"]);
        expected.add("pull_request");
      }
    }
    expect([...expected].sort()).toEqual([
      "environment:dev",
      "environment:preview-dev",
      "environment:preview-prod",
      "environment:prod",
    ]);
    expect([...subjects].sort()).toEqual([...expected].sort());
  });

  test("explains the prod environment's required reviewers", () => {
    expect(docs).toMatch(/Required reviewers/);
    expect(docs).toMatch(/`prod`/);
  });
});
