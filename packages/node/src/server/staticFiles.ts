/**
 * Files served from a folder (the built web app, the models folder) with no way out of it: every path segment is
 * decoded and checked (no "..", ".", empty, hidden, NUL, slash or backslash inside a segment), the resolved real
 * path (symbolic links followed) must lie inside the folder's real path, and folders are never listed.
 */
import { createReadStream } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { extname, join, sep } from "node:path";
import { Readable } from "node:stream";
import { HttpError } from "./responses.js";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".onnx": "application/octet-stream",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
  ".woff": "font/woff",
  ".npz": "application/zip",
  ".gz": "application/gzip",
};

export function contentTypeOf(fileName: string): string {
  return CONTENT_TYPES[extname(fileName).toLowerCase()] ?? "application/octet-stream";
}

/**
 * The decoded segments of a URL path below a folder, or a 400 HttpError for any segment that could leave it or
 * reach a hidden file. `urlPath` is the raw (percent-encoded) path after the folder's prefix.
 */
export function safeSegments(urlPath: string): string[] {
  const raw = urlPath.split("/");
  const refuse = (why: string): never => {
    throw new HttpError(400, `path "${urlPath.slice(0, 200)}": ${why}`);
  };
  return raw.map((segment) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return refuse("not valid percent-encoding");
    }
    if (decoded === "") return refuse("empty path segment (absolute or doubled slash)");
    if (decoded === "." || decoded === "..") return refuse('"." and ".." segments are not allowed');
    if (/[\\/\0]/.test(decoded)) return refuse("slash, backslash or NUL inside a path segment");
    if (decoded.startsWith(".")) return refuse("hidden files are not served");
    if (/^[A-Za-z]:/.test(decoded)) return refuse("drive letters are not allowed");
    return decoded;
  });
}

/**
 * A file of `root` as a streamed response (HEAD: headers only). 404 when it does not exist, is a folder, or
 * resolves (through a link) outside `root`.
 */
export async function serveFile(
  root: string,
  segments: string[],
  method: string,
  cacheControl = "no-cache",
): Promise<Response> {
  const notFound = () => new HttpError(404, `${segments.join("/")}: no such file`);
  let rootReal: string;
  let fileReal: string;
  try {
    rootReal = await realpath(root);
    fileReal = await realpath(join(root, ...segments));
  } catch {
    throw notFound();
  }
  if (!fileReal.startsWith(rootReal + sep)) throw notFound();
  const info = await stat(fileReal).catch(() => undefined);
  if (!info?.isFile()) throw notFound();
  const headers = {
    "Content-Type": contentTypeOf(fileReal),
    "Content-Length": String(info.size),
    "Last-Modified": info.mtime.toUTCString(),
    "Cache-Control": cacheControl,
  };
  if (method === "HEAD") return new Response(null, { status: 200, headers });
  const body = Readable.toWeb(createReadStream(fileReal)) as ReadableStream<Uint8Array>;
  return new Response(body, { status: 200, headers });
}
