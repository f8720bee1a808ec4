/**
 * Oversized uploads are refused without being read whole: a declared Content-Length past the limit before any
 * byte, a streamed body as soon as it passes the limit.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE, serverFixture, type ServerFixture } from "./testFixture.js";

const MB = 1024 * 1024;
let fx: ServerFixture;
beforeAll(async () => {
  fx = await serverFixture({ limits: { maxUploadBytes: MB } });
});
afterAll(() => fx.cleanup());

/** A multipart-looking body of `total` bytes in 64 KB chunks, produced only as they are pulled. */
function lazyBody(total: number): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  const head = new TextEncoder().encode(
    '--b\r\nContent-Disposition: form-data; name="file"; filename="big.npz"\r\n\r\n',
  );
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= total) return controller.close();
      const next = pulled === 0 ? head : chunk;
      pulled += next.byteLength;
      controller.enqueue(next);
    },
  });
  return { stream, pulled: () => pulled };
}

function upload(
  path: string,
  body: ReadableStream<Uint8Array>,
  headers: Record<string, string> = {},
): Request {
  return new Request(`${BASE}${path}`, {
    method: "POST",
    body,
    headers: { "content-type": "multipart/form-data; boundary=b", ...headers },
    duplex: "half",
  } as RequestInit);
}

describe("upload limits", () => {
  for (const path of ["/api/v1/segment", "/infer/daft", "/datastore/image"]) {
    it(`${path}: 413 for a declared Content-Length past the limit, before reading the body`, async () => {
      const body = lazyBody(512 * MB);
      const method = path === "/datastore/image" ? "PUT" : "POST";
      const request = new Request(upload(path, body.stream, { "content-length": String(512 * MB) }), {
        method,
      });
      const response = await fx.handler(request);
      expect(response.status).toBe(413);
      expect(await response.json()).toEqual({ error: "request: body larger than the upload limit of 1 MB" });
      expect(body.pulled()).toBeLessThan(200 * 1024); // at most the stream's own read-ahead of a chunk or two
    });
  }

  it("413 for a streamed body as soon as it passes the limit (no Content-Length), not after reading it all", async () => {
    const body = lazyBody(512 * MB);
    const response = await fx.handler(upload("/api/v1/segment", body.stream));
    expect(response.status).toBe(413);
    expect(response.headers.get("connection")).toBe("close");
    expect(body.pulled()).toBeGreaterThan(MB);
    expect(body.pulled()).toBeLessThan(2 * MB);
  });
});
