/**
 * Files through the handler: the web app, the models folder, content types, no way out of either folder,
 * the "not built" answer, and the headers every response carries.
 */
import { readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { safeSegments } from "./staticFiles.js";
import { BASE, case2d, multipartRequest, serverFixture, type ServerFixture } from "./testFixture.js";

let fx: ServerFixture;
beforeAll(async () => {
  fx = await serverFixture();
  writeFileSync(join(fx.root, "secret.txt"), "outside the served folders\n");
  symlinkSync(join(fx.root, "secret.txt"), join(fx.modelsDir, "link-out.txt"));
});
afterAll(() => fx.cleanup());

const get = (path: string, method = "GET") => fx.handler(new Request(`${BASE}${path}`, { method }));

describe("the web app and the models folder", () => {
  it("serves index.html at / and assets with their content types (wasm, module scripts)", async () => {
    const index = await get("/");
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await index.text()).toContain("<title>DAFT</title>");
    const types: [string, string][] = [
      ["/assets/app.js", "text/javascript; charset=utf-8"],
      ["/assets/worker.mjs", "text/javascript; charset=utf-8"],
      ["/assets/ort-wasm-simd-threaded.wasm", "application/wasm"],
    ];
    for (const [path, type] of types) {
      const response = await get(path);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe(type);
      expect(response.headers.get("cross-origin-embedder-policy")).toBe("require-corp");
    }
    const head = await get("/assets/ort-wasm-simd-threaded.wasm", "HEAD");
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("8");
    expect(head.body).toBeNull();
  });

  it("serves the models folder's manifest and ONNX files byte for byte", async () => {
    const manifest = await get("/models/manifest.json");
    expect(manifest.status).toBe(200);
    expect(manifest.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(await manifest.text()).toBe(readFileSync(join(fx.modelsDir, "manifest.json"), "utf8"));
    const onnx = await get("/models/general.encoder.onnx");
    expect(
      Buffer.from(await onnx.arrayBuffer()).equals(readFileSync(join(fx.modelsDir, "general.encoder.onnx"))),
    ).toBe(true);
  });

  it("never lists a folder and answers 404 for a missing file", async () => {
    expect((await get("/assets")).status).toBe(404);
    expect((await get("/assets/")).status).toBe(404);
    expect((await get("/models/")).status).toBe(404);
    const missing = await get("/models/nothing.onnx");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "nothing.onnx: no such file" });
  });
});

describe("no path leaves the served folders", () => {
  const secret = "outside the served folders";

  it("refuses encoded traversal, NUL, backslashes, doubled slashes, hidden files and drive letters with 400", async () => {
    for (const path of [
      "/models/..%2fpackage.json",
      "/models/..%2F..%2Fsecret.txt",
      "/models/%2e%2e%2fsecret.txt",
      "/models/a%00b",
      "/models/..%5csecret.txt",
      "/models//etc/passwd",
      "/models/.hidden",
      "/models/C:%5cWindows",
      "/assets/%2e%2e%2f%2e%2e%2fsecret.txt",
    ]) {
      const response = await get(path);
      expect(response.status, path).toBe(400);
      const body = (await response.json()) as { error: string };
      expect(body.error).toMatch(/^path ".*": /);
      expect(body.error).not.toContain(secret);
    }
  });

  it("normalised dot segments end up inside the web app folder, never above it", async () => {
    // new URL() resolves "..": /models/../secret.txt is /secret.txt, a (missing) file of the web app.
    for (const path of ["/models/../secret.txt", "/models/%2e%2e/secret.txt", "/assets/../../secret.txt"]) {
      const response = await get(path);
      expect(response.status, path).toBe(404);
      expect(await response.text()).not.toContain(secret);
    }
  });

  it("does not follow a symbolic link out of the folder", async () => {
    const response = await get("/models/link-out.txt");
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain(secret);
  });

  it("safeSegments decodes ordinary names and keeps subfolders", () => {
    expect(safeSegments("general/encoder.onnx")).toEqual(["general", "encoder.onnx"]);
    expect(safeSegments("a%20b.json")).toEqual(["a b.json"]);
    expect(() => safeSegments("%E0%A4%A")).toThrow(/not valid percent-encoding/);
  });
});

describe("routes and headers", () => {
  it("answers unknown API paths with 404 (not the web app) and wrong methods with 405", async () => {
    const api = await get("/api/v1/nope");
    expect(api.status).toBe(404);
    expect(await api.json()).toEqual({ error: "/api/v1/nope: no such route" });
    const post = await fx.handler(new Request(`${BASE}/api/v1/nope`, { method: "POST" }));
    expect(post.status).toBe(404);
    const put = await fx.handler(new Request(`${BASE}/info/`, { method: "PUT" }));
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("GET, HEAD");
    const del = await fx.handler(new Request(`${BASE}/assets/app.js`, { method: "DELETE" }));
    expect(del.status).toBe(405);
    for (const response of [api, post, put, del]) {
      expect(response.headers.get("cross-origin-opener-policy")).toBe("same-origin");
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    }
  });

  it("says how to build the web app when it is not built, and the API still works", async () => {
    const unbuilt = fx.handlerWith({ webDir: join(fx.root, "no-such-dist") });
    const root = await unbuilt(new Request(`${BASE}/`));
    expect(root.status).toBe(404);
    expect(await root.json()).toEqual({ error: "web app not built: run npm run build" });
    expect((await unbuilt(new Request(`${BASE}/assets/app.js`))).status).toBe(404);
    expect((await unbuilt(new Request(`${BASE}/api/v1/health`))).status).toBe(200);
    expect((await unbuilt(new Request(`${BASE}/info/`))).status).toBe(200);
  });

  it("turns a fault inside the server into a one-line 500 and keeps serving", async () => {
    const lines: string[] = [];
    const broken = fx.handlerWith({
      models: {
        dir: fx.store.dir,
        manifest: fx.store.manifest,
        load: () => Promise.reject(new Error("session\ncrashed")),
      },
      log: (line) => lines.push(line),
    });
    const response = await broken(
      multipartRequest("/api/v1/segment", { request: "{}" }, [
        ["file", "case.npz", case2d(32, 32, [[0, 0, 3, 3]])],
      ]),
    );
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: "server error: session crashed" });
    expect(lines[0]).toMatch(/^daft serve: POST \/api\/v1\/segment: session crashed/);
    expect((await broken(new Request(`${BASE}/api/v1/health`))).status).toBe(200);
  });
});
