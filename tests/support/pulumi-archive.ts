import {
  copyFileSync,
  linkSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import * as pulumi from "@pulumi/pulumi";

/**
 * Writes a CallbackFunction's `code` (an AssetArchive: `__index.js` as a string
 * asset, each production package as a folder archive) to `dir`, laid out as
 * Lambda unpacks the zip Pulumi uploads. Returns the archive's entry names.
 */
export async function unpackArchive(archive: pulumi.asset.AssetArchive, dir: string): Promise<string[]> {
  const entries = Object.entries(await archive.assets);
  for (const [name, entry] of entries) {
    const target = join(dir, name);
    mkdirSync(dirname(target), { recursive: true });
    if (entry instanceof pulumi.asset.StringAsset) writeFileSync(target, await entry.text);
    else if (entry instanceof pulumi.asset.FileArchive || entry instanceof pulumi.asset.FileAsset) {
      linkTree(await entry.path, target);
    } else throw new Error(`unexpected archive entry ${name}: ${entry.constructor.name}`);
  }
  return entries.map(([name]) => name);
}

/**
 * Lays `source` out at `target` as a zip would hold it: files, not symbolic links. Each file
 * is a hard link (a copy across file systems): every function carries the same production
 * packages, and copying them for each cost most of a Lambda test file's time. Node names a
 * module by the path it opened, so a module loaded from `target` still shows as the archive's.
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
