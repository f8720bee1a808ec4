/**
 * What the browser test needs around the page: the real `daft serve` (the built CLI, shipped models, the built web
 * app), Debian's chromium driven by playwright-core (never downloaded), and a record of every request the page made.
 * Until `daft serve` exists in this checkout, a minimal static server with the same isolation headers stands in
 * (in-browser mode only).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize, resolve } from "node:path";
import { chromium, type Browser } from "playwright-core";

export const repoRoot = resolve(import.meta.dirname, "../../..");
export const daftBin = join(repoRoot, "packages/node/bin/daft.js");
export const webDist = join(repoRoot, "packages/web/dist");
export const chromiumPath = "/usr/bin/chromium";
export const artifacts = join(repoRoot, "test-artifacts/web");

export function tempDir(prefix = "daft-web-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Builds the web app when dist/ is missing or older than its sources. */
export function ensureWebBuild(): void {
  const built = join(webDist, "index.html");
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...spawnSync("find", [dir, "-type", "f", "-newer", built], { encoding: "utf8" })
        .stdout.split("\n")
        .filter(Boolean)
        .map((f) => statSync(f).mtimeMs),
    );
  const stale =
    !existsSync(built) ||
    newest(join(repoRoot, "packages/web/src")) > 0 ||
    newest(join(repoRoot, "packages/core/src")) > 0;
  if (!stale) return;
  const r = spawnSync("npm", ["run", "build", "-w", "@daft/web"], { cwd: repoRoot, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`web build failed:\n${r.stdout}\n${r.stderr}`);
}

export function daftServeAvailable(): boolean {
  return existsSync(join(repoRoot, "packages/node/src/cli/serve.ts"));
}

export interface RunningServer {
  url: string;
  kind: "daft serve" | "static stand-in";
  stop(): Promise<void>;
}

/** `daft serve --port 0 --models models`, resolved once it prints its URL. */
export function startDaftServe(): Promise<RunningServer> {
  const child: ChildProcess = spawn(
    process.execPath,
    [daftBin, "serve", "--port", "0", "--models", "models"],
    {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`daft serve did not start:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /daft serve: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      resolvePromise({
        url: match[1]!,
        kind: "daft serve",
        stop: () =>
          new Promise((done) => {
            child.once("exit", () => done());
            child.kill("SIGTERM");
          }),
      });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`daft serve exited with ${code}:\n${output}`)));
  });
}

const TYPES: Record<string, string> = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".css": "text/css",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".onnx": "application/octet-stream",
};

/** Static files only: the web app at /, the models folder at /models/ (no API: server mode stays off). */
export function startStaticStandIn(): Promise<RunningServer> {
  const server: Server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname);
    const [root, rest] = path.startsWith("/models/")
      ? [join(repoRoot, "models"), path.slice("/models/".length)]
      : [webDist, path === "/" ? "index.html" : path.slice(1)];
    const file = normalize(join(root, rest));
    response.setHeader("Cross-Origin-Opener-Policy", "same-origin");
    response.setHeader("Cross-Origin-Embedder-Policy", "require-corp");
    response.setHeader("Cross-Origin-Resource-Policy", "same-origin");
    if (!file.startsWith(root) || !existsSync(file) || statSync(file).isDirectory()) {
      response.writeHead(404, { "Content-Type": "application/json" }).end('{"error":"not found"}');
      return;
    }
    response.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" });
    response.end(readFileSync(file));
  });
  return new Promise((done) =>
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      done({
        url: `http://127.0.0.1:${port}/`,
        kind: "static stand-in",
        stop: () => new Promise((closed) => server.close(() => closed())),
      });
    }),
  );
}

/**
 * Headless Chromium's flags, shared with bench/web.mjs: no sandbox (containers), no network chatter, and
 * --enable-unsafe-swiftshader because niivue needs WebGL2, which Chromium without a GPU renders with SwiftShader
 * only when allowed to.
 */
export const chromiumArgs: string[] = JSON.parse(
  readFileSync(join(import.meta.dirname, "chromium-flags.json"), "utf8"),
) as string[];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
}

/** Runs the built CLI as a fresh process. */
export function daft(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [daftBin, ...args], {
    cwd: repoRoot,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** dcmtk's dcmodify and dcmcrle (Debian's dcmtk package), which writeRleCtSeries needs. */
export const hasDcmtk = ["dcmodify", "dcmcrle"].every(
  (tool) => spawnSync(tool, ["--version"], { stdio: "ignore" }).status === 0,
);

/**
 * A `slices`-slice CT series in `dir`/plain, made from fixtures/formats/ct_series (its four 5×4 slices repeated,
 * each copy moved on along the slice normal by dcmodify), and the same files RLE-compressed by dcmcrle in
 * `dir`/rle.
 */
export function writeRleCtSeries(dir: string, slices: number): { plain: string; rle: string } {
  const source = join(repoRoot, "fixtures/formats/ct_series");
  const inOrder = ["IM2", "IM0", "IM3", "IM1"]; // by position along the normal, 2.5 mm apart
  const [origin, step] = [
    [-100, 50, 20],
    [-0.148478, 0.40794, 2.462019],
  ];
  const plain = join(dir, "plain");
  const rle = join(dir, "rle");
  mkdirSync(plain, { recursive: true });
  mkdirSync(rle, { recursive: true });
  const run = (tool: string, args: string[]) => {
    const r = spawnSync(tool, args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${tool} failed:\n${r.stderr}`);
  };
  for (let k = 0; k < slices; k++) {
    const name = `IM${String(k).padStart(3, "0")}`;
    copyFileSync(join(source, inOrder[k % 4]!), join(plain, name));
    const position = origin.map((o, i) => (o + k * step[i]!).toFixed(6)).join("\\");
    run("dcmodify", [
      "-nb",
      "-m",
      `(0020,0032)=${position}`,
      "-m",
      `(0020,0013)=${k + 1}`,
      "-m",
      `(0008,0018)=1.2.826.0.1.3680043.8.498.77.3.${k + 1}`,
      join(plain, name),
    ]);
    run("dcmcrle", [join(plain, name), join(rle, name)]);
  }
  return { plain, rle };
}
