import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { load } from "js-yaml";
import { readStackConfig } from "../../infra/config";
import { runProgram, type ProgramRun } from "../support/pulumi-mocks";

// docs/deploy.md, run as far as it goes without AWS: its template, its config commands through the
// program under mocks, its outputs against the program's exports.
const repo = join(__dirname, "../..");
const read = (path: string) => readFileSync(join(repo, path), "utf8");
const deployDoc = read("docs/deploy.md");

/** Every `roomcast:` key infra/config.ts reads, recorded by handing it a config that remembers. */
function keysTheProgramReads(): Set<string> {
  const keys = new Set<string>();
  const recorder = new Proxy({ name: "roomcast" } as unknown as pulumi.Config, {
    get(_target, property) {
      if (property === "name") return "roomcast";
      return (key: string) => {
        keys.add(key);
        // A string for every `get`, so settings read only when another is set (certificateArn) are seen too.
        return property === "get" ? "value" : undefined;
      };
    },
  });
  readStackConfig(recorder, "dev");
  return keys;
}
const programKeys = keysTheProgramReads();
/** index.ts requires the provider's region; no other provider setting is read. */
const providerKeys = new Set(["aws:region"]);
const requiredKeys = ["aws:region"];

/** A `pulumi config` key as a stack file spells it (`aws:region`, `roomcast:tags`), whether it is known. */
function known(key: string): boolean {
  if (providerKeys.has(key)) return true;
  const [namespace, name] = key.includes(":") ? key.split(":") : ["roomcast", key];
  return namespace === "roomcast" && programKeys.has(name.split(".")[0]);
}

/** The shell commands of a Markdown text's ```sh blocks, one per line, comments dropped. */
function shellCommands(markdown: string): string[] {
  return [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap(([, block]) => block.split("\n"))
    .map((line) => line.replace(/\s+#\s.*$/, "").trim())
    .filter((line) => line !== "");
}

/** Shell words, honouring single and double quotes; `$(openssl ...)` runs, as the shell would. */
function words(command: string): string[] {
  return [...command.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map(([, double, single, bare]) => {
    const word = double ?? single ?? bare;
    const substitution = /^\$\((openssl rand -base64 \d+)\)$/.exec(word);
    if (!substitution) return word;
    const [program, ...args] = substitution[1].split(" ");
    return execFileSync(program, args, { encoding: "utf8" }).trim();
  });
}

type ConfigSet = { key: string; value: string; secret: boolean; path: boolean };
/** Every `pulumi config set` of the text, parsed. */
function configSets(markdown: string): ConfigSet[] {
  return shellCommands(markdown)
    .filter((line) => line.startsWith("pulumi config set "))
    .map((line) => {
      const all = words(line).slice(3);
      const flags = all.filter((word) => word.startsWith("--"));
      const positional = all.filter((word, i) => !word.startsWith("--") && all[i - 1] !== "--stack");
      return {
        key: positional[0],
        value: positional[1],
        secret: flags.includes("--secret"),
        path: flags.includes("--path"),
      };
    });
}

/** The program's config as `pulumi config set` would leave it (paths into objects, secrets marked). */
function stackConfig(sets: ConfigSet[]) {
  const config: Record<string, string> = {};
  const objects: Record<string, Record<string, string>> = {};
  for (const { key, value, path } of sets) {
    if (key.startsWith("aws:")) continue;
    const name = key.replace(/^roomcast:/, "");
    if (path) {
      const [object, field] = name.split(".");
      objects[object] = { ...objects[object], [field]: value };
    } else config[name] = value;
  }
  for (const [object, fields] of Object.entries(objects)) config[object] = JSON.stringify(fields);
  const secrets = sets.filter((set) => set.secret).map((set) => set.key.replace(/^roomcast:/, ""));
  return { config, secrets };
}

/** The section of a Markdown text under a heading, up to the next heading of the same level or above. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`no section "${heading}"`);
  const level = heading.split(" ")[0];
  const rest = markdown.slice(start + heading.length + 2);
  const end = rest.search(new RegExp(`^#{1,${level.length}} `, "m"));
  return end < 0 ? rest : rest.slice(0, end);
}

let run: ProgramRun;
let programExports: string[];
const docSets = configSets(deployDoc);
beforeAll(async () => {
  const { config, secrets } = stackConfig(docSets);
  run = await runProgram("dev", config, secrets, { serializeLambdas: false });
  programExports = Object.keys(await import("../../index")).sort();
}, 300_000);

describe("Pulumi.yaml's template (pulumi new)", () => {
  const project = load(read("Pulumi.yaml")) as {
    template?: { description?: string; config?: Record<string, { description?: string }> };
  };

  // check 1: `pulumi new` asks for every setting the program requires, each explained.
  it("asks for every required setting, with a description", () => {
    expect(project.template?.description).toEqual(expect.any(String));
    const config = project.template?.config ?? {};
    for (const key of requiredKeys) expect(config[key]?.description).toEqual(expect.any(String));
  });

  // check 2: and for nothing the program does not read.
  it("names only settings the program reads", () => {
    expect(Object.keys(project.template?.config ?? {}).filter((key) => !known(key))).toEqual([]);
  });
});

describe.each(["Pulumi.dev.yaml", "Pulumi.prod.yaml"])(
  "%s (committed, so CI has the stack's config)",
  (file) => {
    const config = (load(read(file)) as { config: Record<string, unknown> }).config;

    // check 3: the stack files set the region index.ts requires, and only settings the program reads.
    it("sets aws:region and only settings the program reads", () => {
      for (const key of requiredKeys) expect(config[key]).toEqual(expect.any(String));
      expect(Object.keys(config).filter((key) => !known(key))).toEqual([]);
    });
  },
);

describe("docs/deploy.md", () => {
  // check 4: the first deploy goes login -> stack init -> region -> preview -> up -> wscat -> destroy.
  it("walks a first deploy from zero, in order", () => {
    const steps = shellCommands(section(deployDoc, "## First deploy, from zero"));
    const order = [
      /^curl -fsSL https:\/\/get\.pulumi\.com \| sh$/,
      /^pulumi login$/,
      /^export PULUMI_CONFIG_PASSPHRASE=/,
      /^pulumi login (s3|file):\/\//,
      /^npm ci$/,
      /^pulumi stack init dev$/,
      /^pulumi config set aws:region \S+$/,
      /^pulumi preview$/,
      /^pulumi up$/,
      /^npx wscat -c "\$\(pulumi stack output url\)"$/,
      /^pulumi destroy$/,
    ];
    const positions = order.map((pattern) => steps.findIndex((step) => pattern.test(step)));
    expect(positions.filter((position) => position < 0)).toEqual([]);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  // check 5: every `pulumi config` key it uses is one the program reads.
  it("configures only settings the program reads", () => {
    const keys = shellCommands(deployDoc)
      .filter((line) => /^pulumi config (set|get|rm) /.test(line))
      .map((line) => words(line).filter((word) => !word.startsWith("--"))[3]);
    expect(keys.length).toBeGreaterThan(10);
    expect(keys.filter((key) => !known(key))).toEqual([]);
  });

  // check 6: secrets are set with --secret.
  it("sets authSecret only with --secret", () => {
    const secretSets = docSets.filter((set) => /authSecret/.test(set.key));
    expect(secretSets.length).toBeGreaterThan(0);
    expect(secretSets.filter((set) => !set.secret)).toEqual([]);
  });

  // check 7: the program accepts every value the docs set, together (as `pulumi preview` would).
  it("has every config value it sets accepted by the program under mocks", () => {
    expect(run.outputs.url).toMatch(/^wss:\/\//);
    expect(run.outputs.wscat).toContain("?token=$TOKEN");
    expect(run.ofType("aws:apigatewayv2/domainName:DomainName")).toHaveLength(1);
  });

  // check 8: every output named in the docs exists, and the outputs table lists them all.
  it("names only outputs the program exports, and lists every one of them", () => {
    const named = [...deployDoc.matchAll(/pulumi stack output (\w+)/g)].map(([, name]) => name);
    expect(named.filter((name) => !programExports.includes(name))).toEqual([]);
    const table = section(deployDoc, "## Stack outputs");
    const listed = [...table.matchAll(/^\| `(\w+)`/gm)].map(([, name]) => name).sort();
    expect(listed).toEqual(programExports);
  });
});

// check 9: the number of Lambdas a deploy uploads, as the program creates them (with authSecret: one more).
it("counts the functions a deploy uploads as the program does", () => {
  const [, without, withAuthorizer] =
    /uploads (\d+) of them, (\d+) with the authorizer/.exec(deployDoc) ?? [];
  const functions = run.ofType("aws:lambda/function:Function").length;
  expect(run.ofType("aws:apigatewayv2/authorizer:Authorizer")).toHaveLength(1);
  expect([Number(without), Number(withAuthorizer)]).toEqual([functions - 1, functions]);
});

// check 10: the README's outputs are the program's.
it("README lists every stack output", () => {
  const sentence = /^Outputs: ([\s\S]*?)\.\n/m.exec(read("README.md"))?.[1] ?? "";
  const listed = [...sentence.matchAll(/`(\w+)`/g)].map(([, name]) => name);
  expect(programExports.filter((name) => !listed.includes(name))).toEqual([]);
  expect(listed.filter((name) => !programExports.includes(name))).toEqual([]);
});

// check 11: the workflows create a stack on first push, from its committed Pulumi.<stack>.yaml.
it("the workflows' pulumi steps create a missing stack (upsert)", () => {
  for (const file of ["deploy.yml", "pull-request.yml"]) {
    const workflow = read(`.github/workflows/${file}`);
    const pulumiSteps = workflow.split("- uses: pulumi/actions@").slice(1);
    expect(pulumiSteps.length).toBeGreaterThan(0);
    for (const step of pulumiSteps) expect(step).toMatch(/^\S+\n\s+with:[\s\S]*?\n\s+upsert: true\n/);
  }
});
