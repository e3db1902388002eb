import { createReadStream } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, resolve, sep } from "node:path";

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".ico": "image/x-icon",
  ".webmanifest": "application/manifest+json",
  ".woff2": "font/woff2",
};

function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", ...headers }).end(text + "\n");
}

/** The file under `root` that a URL path names, or undefined if it names none (or leaves `root`). */
async function fileFor(root: string, pathname: string): Promise<string | undefined> {
  let path: string;
  try {
    path = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (path.endsWith("/")) path += "index.html";
  // No dotfiles, no NULs; `..` is caught below, also when it came percent-encoded.
  if (path.includes("\0") || path.split("/").some((segment) => segment.startsWith(".") && segment !== "")) {
    return undefined;
  }
  try {
    const realRoot = await realpath(root);
    // realpath also resolves symlinks, so a link out of the folder is refused too.
    const file = await realpath(resolve(realRoot, "." + path));
    if (!file.startsWith(realRoot + sep) || !(await stat(file)).isFile()) return undefined;
    return file;
  } catch {
    return undefined;
  }
}

/**
 * Serves the files of `root` (GET and HEAD; `/` is index.html) and the generated
 * JSON documents of `generated`, e.g. `/config.json`, each with the Content-Security-Policy
 * `csp()` returns, if any.
 */
export function createStaticSite(root: string, generated: Record<string, () => unknown>, csp?: () => string) {
  return (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (csp) res.setHeader("Content-Security-Policy", csp());
    return serve(root, generated, req, res).catch(() => {
      if (res.headersSent) res.destroy();
      else plain(res, 500, "Internal Server Error");
    });
  };
}

/** Answers one request; `createStaticSite` turns a failure into a 500. */
async function serve(
  root: string,
  generated: Record<string, () => unknown>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    return plain(res, 405, "Method Not Allowed", { Allow: "GET, HEAD" });
  }
  const { pathname } = new URL(req.url ?? "/", "http://localhost");
  const document = generated[pathname];
  if (document) {
    const json = JSON.stringify(document());
    res.writeHead(200, {
      "Content-Type": contentTypes[".json"],
      "Content-Length": Buffer.byteLength(json),
      "Cache-Control": "no-store",
    });
    res.end(req.method === "HEAD" ? undefined : json);
    return;
  }
  const file = await fileFor(root, pathname);
  if (!file) return plain(res, 404, "Not Found");
  const { size } = await stat(file);
  res.writeHead(200, {
    "Content-Type": contentTypes[extname(file).toLowerCase()] ?? "application/octet-stream",
    "Content-Length": size,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
  });
  if (req.method === "HEAD") return void res.end();
  createReadStream(file)
    .on("error", () => res.destroy())
    .pipe(res);
}
