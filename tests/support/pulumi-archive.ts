import { cpSync, mkdirSync, writeFileSync } from "node:fs";
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
      // A zip holds files, not links: copy what they point at.
      cpSync(await entry.path, target, { recursive: true, dereference: true });
    } else throw new Error(`unexpected archive entry ${name}: ${entry.constructor.name}`);
  }
  return entries.map(([name]) => name);
}
