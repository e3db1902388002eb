import {
  copyFileSync,
  linkSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import * as pulumi from "@pulumi/pulumi";

export type UnpackedArchive = {
  /** The archive's entry names. */
  entries: string[];
  /** Where the archive's packages are: the folder its top-level folders (`node_modules`) link to. */
  packagesDir: string;
  /** Whether a file, named by its real path as Node names a module it loaded, is the archive's. */
  holds: (file: string) => boolean;
};

/**
 * Unpacks CallbackFunction archives (`code`: an AssetArchive of `__index.js` as a string
 * asset and each production package as a folder archive), each to a folder of its own laid
 * out as Lambda unpacks the zip Pulumi uploads. Every function carries the same packages:
 * laying them out for each cost most of a Lambda test file's CPU, so each distinct set of
 * package entries is laid out once in `workDir`, and each archive's folder links to it.
 * Node names a module by its real path: one loaded from a package shows under `packagesDir`.
 */
export function createArchiveUnpacker(workDir: string) {
  const packageTrees = new Map<string, string>();

  return async function unpackArchive(
    archive: pulumi.asset.AssetArchive,
    dir: string,
  ): Promise<UnpackedArchive> {
    const entries = Object.entries(await archive.assets);
    const packages: [name: string, path: string][] = [];
    for (const [name, entry] of entries) {
      if (entry instanceof pulumi.asset.StringAsset) writeFileSync(placed(dir, name), await entry.text);
      else if (entry instanceof pulumi.asset.FileArchive || entry instanceof pulumi.asset.FileAsset) {
        packages.push([name, await entry.path]);
      } else throw new Error(`unexpected archive entry ${name}: ${entry.constructor.name}`);
    }
    // Same entry names and source paths: the same files.
    const key = JSON.stringify(packages.sort());
    if (!packageTrees.has(key)) {
      const tree = join(workDir, `packages-${packageTrees.size}`);
      for (const [name, path] of packages) linkTree(path, placed(tree, name));
      packageTrees.set(key, tree);
    }
    const packagesDir = packageTrees.get(key)!;
    for (const topLevel of new Set(packages.map(([name]) => name.split("/")[0])))
      symlinkSync(join(packagesDir, topLevel), placed(dir, topLevel));
    return {
      entries: entries.map(([name]) => name),
      packagesDir,
      holds: (file) => file.startsWith(`${dir}/`) || file.startsWith(`${packagesDir}/`),
    };
  };
}

/** `dir`'s path for an archive entry, its folders made. */
function placed(dir: string, name: string) {
  const target = join(dir, name);
  mkdirSync(dirname(target), { recursive: true });
  return target;
}

/**
 * Lays `source` out at `target` as a zip would hold it: files, not symbolic links. Each file
 * is a hard link (a copy across file systems), cheaper than a copy of the package tree.
 */
function linkTree(source: string, target: string) {
  if (statSync(source).isDirectory()) {
    mkdirSync(target, { recursive: true });
    for (const name of readdirSync(source)) linkTree(join(source, name), join(target, name));
    return;
  }
  try {
    linkSync(realpathSync(source), target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
    copyFileSync(source, target);
  }
}
