import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { startRecordingGateway, type RecordingGateway } from "../support/local-stack";

// The gateway serves the web client: web/ at `/`, and /config.json telling the page where to connect.
const root = mkdtempSync(join(tmpdir(), "roomcast-web-"));
const outside = mkdtempSync(join(tmpdir(), "roomcast-outside-"));
let site: RecordingGateway;
let repoSite: RecordingGateway;

beforeAll(async () => {
  writeFileSync(join(root, "index.html"), "<!doctype html><title>t</title>");
  writeFileSync(join(root, "app.js"), "export {};");
  writeFileSync(join(root, "style.css"), "body{}");
  writeFileSync(join(root, "logo.svg"), "<svg/>");
  writeFileSync(join(root, "data.bin"), Buffer.from([1, 2, 3]));
  writeFileSync(join(root, ".env"), "SECRET=1");
  mkdirSync(join(root, "sub"));
  writeFileSync(join(root, "sub", "index.html"), "<p>sub</p>");
  writeFileSync(join(outside, "secret.txt"), "secret");
  symlinkSync(join(outside, "secret.txt"), join(root, "link.txt"));
  [site, repoSite] = await Promise.all([startRecordingGateway({ webRoot: root }), startRecordingGateway()]);
});

afterAll(async () => {
  await Promise.all([site.stop(), repoSite.stop()]);
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

/** A request with its path sent byte for byte (fetch would normalize `..` away). */
function rawGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const socket = tcpConnect(port, "127.0.0.1", () =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`),
    );
    let response = "";
    socket.on("data", (chunk) => (response += chunk.toString()));
    socket.on("end", () => {
      const [head, body] = response.split("\r\n\r\n");
      done({ status: Number(head.split(" ")[1]), body });
    });
    socket.on("error", fail);
  });
}

it("serves the repository's web/index.html at /", async () => {
  const response = await fetch(`${repoSite.httpUrl}/`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
  expect(await response.text()).toBe(readFileSync(resolve(__dirname, "../../web/index.html"), "utf8"));
});

it("serves /config.json with the WebSocket URL of this gateway", async () => {
  const response = await fetch(`${site.httpUrl}/config.json`);
  expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
  expect(await response.json()).toEqual({ wsUrl: `ws://localhost:${site.port}` });
});

it("says auth: true in /config.json when the gateway checks tokens, so the page asks for one", async () => {
  const checking = await startRecordingGateway({
    webRoot: root,
    authorize: () => Promise.reject(new Error("not called: no handshake here")),
  });
  try {
    const response = await fetch(`${checking.httpUrl}/config.json`);
    expect(await response.json()).toEqual({ wsUrl: `ws://localhost:${checking.port}`, auth: true });
  } finally {
    await checking.stop();
  }
});

it("serves each ES module of the web client as JavaScript, from its own folder", async () => {
  // Every relative import of every web/*.js file: a module the browser will ask for.
  const webDir = resolve(__dirname, "../../web");
  const modules = new Set(["app.js"]);
  for (const file of readdirSync(webDir).filter((name) => name.endsWith(".js"))) {
    const source = readFileSync(join(webDir, file), "utf8");
    for (const [, imported] of source.matchAll(/from "\.\/([\w-]+\.js)"/g)) modules.add(imported);
  }
  expect(modules.size).toBeGreaterThan(5);
  for (const module of modules) {
    const response = await fetch(`${repoSite.httpUrl}/${module}`);
    expect([module, response.status, response.headers.get("content-type")]).toEqual([
      module,
      200,
      "text/javascript; charset=utf-8",
    ]);
  }
});

it.each([
  ["/", "text/html; charset=utf-8", "<!doctype html><title>t</title>"],
  ["/index.html", "text/html; charset=utf-8", "<!doctype html><title>t</title>"],
  ["/app.js", "text/javascript; charset=utf-8", "export {};"],
  ["/style.css", "text/css; charset=utf-8", "body{}"],
  ["/logo.svg", "image/svg+xml", "<svg/>"],
  ["/sub/", "text/html; charset=utf-8", "<p>sub</p>"],
  ["/app.js?v=2", "text/javascript; charset=utf-8", "export {};"],
])("serves %s as %s", async (path, type, body) => {
  const response = await fetch(`${site.httpUrl}${path}`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe(type);
  expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  expect(await response.text()).toBe(body);
});

it("serves an unknown extension as application/octet-stream", async () => {
  const response = await fetch(`${site.httpUrl}/data.bin`);
  expect(response.headers.get("content-type")).toBe("application/octet-stream");
  expect(Buffer.from(await response.arrayBuffer())).toEqual(Buffer.from([1, 2, 3]));
});

it("answers HEAD with the headers only", async () => {
  const response = await fetch(`${site.httpUrl}/app.js`, { method: "HEAD" });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-length")).toBe("10");
  expect(await response.text()).toBe("");
});

it("refuses other methods with 405", async () => {
  const response = await fetch(`${site.httpUrl}/index.html`, { method: "PUT", body: "x" });
  expect(response.status).toBe(405);
  expect(response.headers.get("allow")).toBe("GET, HEAD");
});

// Each names outside/secret.txt, a sibling of the served folder, or a file the site must not show.
const sibling = basename(outside);
it.each([
  "/missing.html",
  "/sub",
  "/.env",
  "/link.txt",
  `/../${sibling}/secret.txt`,
  `/..%2f${sibling}%2fsecret.txt`,
  `/%2e%2e/${sibling}/secret.txt`,
  `/sub/..%2f..%2f${sibling}%2fsecret.txt`,
  `/%2e%2e%5c${sibling}%5csecret.txt`,
  "/index.html%00.js",
  "/%E0%A4%A",
])("answers 404 for %s and never leaves the folder", async (path) => {
  const { status, body } = await rawGet(site.port, path);
  expect(status).toBe(404);
  expect(body).not.toMatch(/secret|SECRET/);
});
