/**
 * The zips `pulumi up` would upload for roomcast's Lambdas, built from the Pulumi
 * program under mocks (tests/support/pulumi-mocks.ts) as tests/infra does.
 *
 * Pulumi's closure serialization needs TypeScript's own CommonJS output (tsx's
 * esbuild output hides which package a value came from, and serializing fails),
 * so the program runs in a child Node that compiles .ts files with
 * `ts.transpileModule` and the project's tsconfig, as ts-jest does for the tests.
 */
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** One function's archive as the program declares it: `__index.js` and the package folders it ships. */
type ArchiveDescription = {
  functionName: string;
  indexJs: string;
  /** Archive entry (`node_modules/<pkg>`) -> folder on disk, relative to the repository root. */
  packages: [entry: string, path: string][];
};

export type LambdaArchive = { functionName: string; zipPath: string; zipBytes: number };

const root = resolve(__dirname, "../..");

/** In the child: run the program under mocks and describe every Lambda's archive. */
export async function describeArchives(): Promise<ArchiveDescription[]> {
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded only in the child, after the TypeScript hook */
  const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
  const { runProgram } =
    require("../../tests/support/pulumi-mocks") as typeof import("../../tests/support/pulumi-mocks");
  /* eslint-enable @typescript-eslint/no-require-imports */
  const run = await runProgram("dev");
  return Promise.all(
    run.ofType("aws:lambda/function:Function").map(async (fn) => {
      const assets = await (fn.inputs.code as InstanceType<typeof pulumi.asset.AssetArchive>).assets;
      const packages: [string, string][] = [];
      let indexJs: string | undefined;
      for (const [entry, asset] of Object.entries(assets)) {
        if (entry === "__index.js" && asset instanceof pulumi.asset.StringAsset) indexJs = await asset.text;
        else if (asset instanceof pulumi.asset.FileArchive) packages.push([entry, await asset.path]);
        else throw new Error(`${fn.inputs.name}: unexpected archive entry ${entry}`);
      }
      if (!indexJs) throw new Error(`${fn.inputs.name}: no __index.js`);
      return { functionName: fn.inputs.name as string, indexJs, packages: packages.sort() };
    }),
  );
}

const childSource = `
// \`node -e\` makes exports, module and require globals, and Pulumi takes any global for a
// built-in it need not capture (\`exports.x\` in a module would then break): remove them.
const load = require;
delete globalThis.exports;
delete globalThis.module;
delete globalThis.require;
const ts = load("typescript");
const { readFileSync } = load("node:fs");
const tsconfig = ts.readConfigFile("tsconfig.json", ts.sys.readFile).config;
const { options } = ts.convertCompilerOptionsFromJson(tsconfig.compilerOptions, process.cwd());
load.extensions[".ts"] = (module, filename) =>
  module._compile(ts.transpileModule(readFileSync(filename, "utf8"), { fileName: filename, compilerOptions: options }).outputText, filename);
load(process.env.ARCHIVES_MODULE).describeArchives().then(
  (archives) => process.send(archives, () => process.exit(0)),
  (error) => { console.error(error); process.exit(1); },
);
`;

function describeInChild(): Promise<ArchiveDescription[]> {
  return new Promise((resolvePromise, reject) => {
    // A plain Node (no tsx loader): the hook above is its only TypeScript loader.
    const child = spawn(process.execPath, ["-e", childSource], {
      cwd: root,
      env: { ...process.env, ARCHIVES_MODULE: __filename, NODE_OPTIONS: "" },
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk));
    child.once("message", (message) => resolvePromise(message as ArchiveDescription[]));
    child.once(
      "exit",
      (code) => code !== 0 && reject(new Error(`Pulumi program failed (${code}):\n${stderr}`)),
    );
  });
}

/**
 * Writes each Lambda's zip to `dir`. Functions that ship the same packages share
 * one zip of them (zipped from the repository's node_modules, following links, as
 * Pulumi does), to which each adds its own `__index.js`.
 */
export async function buildLambdaArchives(dir: string): Promise<LambdaArchive[]> {
  const descriptions = await describeInChild();
  const packageZips = new Map<string, string>();
  return descriptions.map((fn) => {
    const key = JSON.stringify(fn.packages);
    let packageZip = packageZips.get(key);
    if (!packageZip) {
      for (const [entry, path] of fn.packages) {
        if (resolve(root, path) !== join(root, entry)) throw new Error(`${entry} is not at ${path}`);
      }
      packageZip = join(dir, `packages-${packageZips.size}.zip`);
      execFileSync("zip", ["-q", "-r", "-X", packageZip, ...fn.packages.map(([entry]) => entry)], {
        cwd: root,
      });
      packageZips.set(key, packageZip);
    }
    const fnDir = join(dir, fn.functionName);
    mkdirSync(fnDir, { recursive: true });
    writeFileSync(join(fnDir, "__index.js"), fn.indexJs);
    const zipPath = join(dir, `${fn.functionName}.zip`);
    copyFileSync(packageZip, zipPath);
    execFileSync("zip", ["-q", "-X", zipPath, "__index.js"], { cwd: fnDir });
    return { functionName: fn.functionName, zipPath, zipBytes: statSync(zipPath).size };
  });
}
