/**
 * serveNode over a real socket: requests and responses pass through intact, raw paths cannot escape, oversized
 * uploads are cut off early (declared or streamed) without taking the server down, a client that leaves drops
 * its queued inference.
 */
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveNode, type RunningServer } from "./nodeAdapter.js";
import { InferenceQueue } from "./queue.js";
import { SegmentResponseSchema } from "./schemas.js";
import { case2d, paintedBoxes, segsOf, serverFixture, type ServerFixture } from "./testFixture.js";

const MB = 1024 * 1024;
let fx: ServerFixture;
let server: RunningServer;
const queue = new InferenceQueue(4);

beforeAll(async () => {
  fx = await serverFixture({ limits: { maxUploadBytes: MB }, queue });
  writeFileSync(join(fx.root, "secret.txt"), "outside the served folders\n");
  server = await serveNode(fx.handler, {
    host: "127.0.0.1",
    port: 0,
    maxBodyBytes: MB,
    log: () => undefined,
  });
});
afterAll(async () => {
  await server.close();
  await fx.cleanup();
});

/** A raw GET (the path is sent exactly as given, no client-side normalisation). */
function rawGet(path: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port: server.port, path, method: "GET" }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}

/**
 * Sends up to `total` bytes as a multipart body (declared or chunked), writing only as the socket drains, and
 * reports the status of the response and how much had been written when it came.
 */
function hugeUpload(
  total: number,
  declare: boolean,
): Promise<{ status: number; body: string; writtenAtResponse: number }> {
  return new Promise((resolve, reject) => {
    let written = 0;
    let done = false;
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port: server.port,
        path: "/api/v1/segment",
        method: "POST",
        headers: {
          "content-type": "multipart/form-data; boundary=b",
          ...(declare ? { "content-length": String(total) } : {}),
        },
      },
      (res) => {
        const writtenAtResponse = written;
        done = true;
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode!, body, writtenAtResponse }));
        res.on("error", () => resolve({ status: res.statusCode!, body, writtenAtResponse }));
      },
    );
    req.on("error", (error) => (done ? undefined : reject(error)));
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const pump = () => {
      while (!done && written < total) {
        written += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      if (!done) req.end();
    };
    pump();
  });
}

describe("serveNode", () => {
  it("prints a URL with the real port and serves the handler's responses with their headers", async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    const response = await fetch(`${server.url}api/v1/health`);
    expect(response.status).toBe(200);
    expect(response.headers.get("cross-origin-embedder-policy")).toBe("require-corp");
    expect(((await response.json()) as { ok: boolean }).ok).toBe(true);
  });

  it("streams a multipart upload into the handler and the label map back", async () => {
    const form = new FormData();
    form.append("request", JSON.stringify({ boxes: [[7, 8, 90, 100]] }));
    form.append("file", new Blob([case2d(256, 256, [[0, 0, 1, 1]])]), "case.npz");
    const response = await fetch(`${server.url}api/v1/segment`, { method: "POST", body: form });
    expect(response.status).toBe(200);
    const body = SegmentResponseSchema.parse(await response.json());
    const segs = segsOf(body.output);
    expect(Array.from(segs.labels)).toEqual(Array.from(paintedBoxes(256, 256, [[7, 8, 90, 100]])));
  });

  it("raw traversal paths never reach a file outside the served folders", async () => {
    for (const path of [
      "/models/../secret.txt",
      "/models/../../secret.txt",
      "/../secret.txt",
      "/models/%2e%2e/secret.txt",
    ]) {
      const response = await rawGet(path);
      expect(response.status, path).toBe(404);
      expect(response.body).not.toContain("outside the served folders");
    }
    for (const path of [
      "/models/..%2fsecret.txt",
      "/models/%2e%2e%2fsecret.txt",
      "/models/a%00b",
      "//etc/passwd",
    ]) {
      const response = await rawGet(path);
      expect([400, 404], path).toContain(response.status);
      expect(response.body).not.toContain("outside the served folders");
      expect(response.body).not.toContain("root:");
    }
  });

  it("answers a declared oversized upload with 413 before reading it, and keeps serving", async () => {
    const result = await hugeUpload(512 * MB, true);
    expect(result.status).toBe(413);
    expect(JSON.parse(result.body)).toEqual({ error: "request: body larger than the upload limit of 1 MB" });
    expect(result.writtenAtResponse).toBeLessThan(16 * MB);
    expect((await fetch(`${server.url}api/v1/health`)).status).toBe(200);
  });

  it("cuts off a streamed (chunked) upload with 413 once it passes the limit, and keeps serving", async () => {
    const result = await hugeUpload(512 * MB, false);
    expect(result.status).toBe(413);
    expect(JSON.parse(result.body)).toEqual({ error: "request: body larger than the upload limit of 1 MB" });
    expect(result.writtenAtResponse).toBeLessThan(16 * MB);
    expect((await fetch(`${server.url}api/v1/health`)).status).toBe(200);
  });

  it("reads and discards an upload the handler refused early, so the client gets the answer", async () => {
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(512 * 1024)]), "case.npz");
    const response = await fetch(`${server.url}infer/no-such-model`, { method: "POST", body: form });
    expect(response.status).toBe(404);
    expect(response.headers.get("connection")).not.toBe("close");
    expect(((await response.json()) as { error: string }).error).toMatch(
      /^model "no-such-model": no such model/,
    );
  });

  it("a POST without a body segments a datastore image (MONAI Label infer by id)", async () => {
    const form = new FormData();
    form.append("file", new Blob([case2d(256, 256, [[3, 3, 50, 60]])]), "stored.npz");
    const put = await fetch(`${server.url}datastore/image?image=stored`, { method: "PUT", body: form });
    expect(await put.json()).toEqual({ image: "stored" });
    const response = await fetch(`${server.url}infer/daft?image=stored&output=json`, { method: "POST" });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { file: string }).file).toBe("stored.nii.gz");
  });

  it("answers malformed HTTP with 400 and keeps serving", async () => {
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(server.port, "127.0.0.1", () => socket.write("NONSENSE\r\n\r\n"));
      let text = "";
      socket.on("data", (d) => (text += d.toString()));
      socket.on("close", () => resolve(text));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect((await fetch(`${server.url}api/v1/health`)).status).toBe(200);
  });

  it("drops a queued inference when its client disconnects", async () => {
    let release!: () => void;
    const busy = queue.run(() => new Promise<void>((r) => (release = r)));
    const aborter = new AbortController();
    const form = new FormData();
    form.append("params", JSON.stringify({ boxes: [[0, 0, 5, 5]] }));
    form.append("file", new Blob([case2d(256, 256, [[0, 0, 1, 1]])]), "case.npz");
    const pending = fetch(`${server.url}infer/daft?output=json`, {
      method: "POST",
      body: form,
      signal: aborter.signal,
    });
    while (queue.waiting < 1) await new Promise((r) => setTimeout(r, 5));
    aborter.abort();
    await expect(pending).rejects.toThrow();
    while (queue.waiting > 0) await new Promise((r) => setTimeout(r, 5));
    release();
    await busy;
    expect(queue.running).toBe(false);
  });
});
