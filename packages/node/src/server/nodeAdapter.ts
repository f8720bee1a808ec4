/**
 * `serveNode(handler, {host, port})`: hosts a Request → Response handler on node:http. Each request becomes a
 * web-standard Request whose body streams from the socket, counted: a declared Content-Length past the limit is
 * answered 413 before a byte is read, and a body that streams past it is cut off there (413, connection closed) —
 * never buffered whole. The Response is streamed back with backpressure; a client that leaves aborts the
 * Request's signal (a queued inference is dropped).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { countedBody, formatBytes } from "./limits.js";
import { SECURITY_HEADERS } from "./responses.js";

export interface ServeNodeOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Hard bound of a request body (bytes); the handler may apply the same or a lower one. */
  maxBodyBytes: number;
  /** Where adapter faults are reported (default: stderr). */
  log?: (line: string) => void;
}

export interface RunningServer {
  server: Server;
  /** e.g. http://127.0.0.1:8040/ */
  url: string;
  port: number;
  /** Stops accepting, ends idle keep-alive connections, waits for requests in flight. */
  close(graceMs?: number): Promise<void>;
}

/** Slack above the handler's own limit, so that its precise 413 is the one a client normally sees. */
const ADAPTER_SLACK = 1024 * 1024;

export async function serveNode(
  handler: (request: Request) => Promise<Response>,
  options: ServeNodeOptions,
): Promise<RunningServer> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const server = createServer((req, res) => {
    handle(handler, req, res, options.maxBodyBytes).catch((error: unknown) => {
      log(`daft serve: ${req.method} ${req.url}: ${(error as Error).message}`);
      if (!res.headersSent) writePlainError(res, 500, "server error: the response could not be written");
      else res.destroy();
    });
  });
  // Idle keep-alive connections stay open longer than clients keep them (browsers, undici: seconds to minutes), so a
  // client never sends a POST on a connection the server is just closing (a lost upload, not a retry).
  server.keepAliveTimeout = 65_000;
  server.on("clientError", (_error, socket) => {
    if (socket.writable) {
      socket.end(
        'HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"error":"request: malformed HTTP"}\n',
      );
    } else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${host}:${address.port}/`,
    port: address.port,
    // Stops accepting, closes idle keep-alive connections at once, and gives requests in flight a grace period
    // before their connections are closed too (a client that never finishes must not keep the server alive).
    close: (graceMs = 2_000) =>
      new Promise<void>((resolve, reject) => {
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close((error) => {
          clearTimeout(force);
          if (error) reject(error);
          else resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

async function handle(
  handler: (request: Request) => Promise<Response>,
  req: IncomingMessage,
  res: ServerResponse,
  maxBodyBytes: number,
): Promise<void> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > maxBodyBytes) {
    return refuse(
      req,
      res,
      413,
      `request: body larger than the upload limit of ${formatBytes(maxBodyBytes)}`,
    );
  }
  const aborter = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) aborter.abort();
  });
  let url: URL;
  try {
    url = new URL(req.url ?? "/", "http://localhost");
  } catch {
    return refuse(req, res, 400, "request: malformed URL");
  }
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    try {
      headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
    } catch {
      return refuse(req, res, 400, `request: malformed header ${JSON.stringify(req.rawHeaders[i])}`);
    }
  }
  const method = req.method ?? "GET";
  // HTTP/1.1: a request has a body when it declares a length or a transfer coding (RFC 9112 §6.3).
  const hasBody =
    method !== "GET" && method !== "HEAD" && (declared > 0 || req.headers["transfer-encoding"] !== undefined);
  const counted = hasBody
    ? countedBody(Readable.toWeb(req) as ReadableStream<Uint8Array>, maxBodyBytes + ADAPTER_SLACK)
    : undefined;
  const request = new Request(url, {
    method,
    headers,
    signal: aborter.signal,
    ...(counted ? { body: counted.stream, duplex: "half" } : {}),
  } as RequestInit);

  const response = await handler(request);
  if (counted?.exceeded() && !res.headersSent) {
    await response.body?.cancel().catch(() => undefined);
    return refuse(
      req,
      res,
      413,
      `request: body larger than the upload limit of ${formatBytes(maxBodyBytes)}`,
    );
  }
  // A body within the limit that the handler did not read (an early 4xx) is read and discarded, so the client can
  // finish sending and read the answer; one that cannot be read (past the limit) closes the connection instead.
  let unread = hasBody && !req.complete;
  if (unread && counted && !counted.stream.locked) unread = !(await discard(counted.stream));
  const outHeaders: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    outHeaders[name] = value;
  });
  if (unread) outHeaders["connection"] = "close";
  res.writeHead(response.status, outHeaders);
  if (response.body && method !== "HEAD") {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      if (res.destroyed) break;
      if (!res.write(chunk)) await drainedOrClosed(res);
    }
  }
  res.end();
  if (unread) closeAfterResponse(req, res);
}

/** Waits for the response to drain or close, then removes both listeners (a long body waits many times). */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off("drain", done).off("close", done);
      resolve();
    };
    res.on("drain", done).on("close", done);
  });
}

/** Reads a stream to its end, keeping nothing; false when it fails (e.g. past the limit). */
async function discard(stream: ReadableStream<Uint8Array>): Promise<boolean> {
  const reader = stream.getReader();
  try {
    for (;;) if ((await reader.read()).done) return true;
  } catch {
    return false;
  } finally {
    reader.releaseLock();
  }
}

/**
 * Ends the connection once the response is out, without reading the rest of the body: FIN first (the client
 * reads the response), then the socket is destroyed a moment later if the client keeps sending.
 */
function closeAfterResponse(req: IncomingMessage, res: ServerResponse): void {
  const close = () => {
    req.socket.end();
    setTimeout(() => req.socket.destroy(), 1000).unref();
  };
  if (res.writableFinished) close();
  else res.once("finish", close);
}

/** A one-line JSON error written directly (the handler never saw the request); the connection then closes. */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
  writePlainError(res, status, message, { Connection: "close" });
  closeAfterResponse(req, res);
}

function writePlainError(
  res: ServerResponse,
  status: number,
  message: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    "Content-Type": "application/json; charset=utf-8",
    "Cache-Control": "no-store",
    ...extra,
  });
  res.end(`${JSON.stringify({ error: message })}\n`);
}
