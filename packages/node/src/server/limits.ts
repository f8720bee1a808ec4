/**
 * What one request may cost the server, and reading a multipart upload within it: the declared Content-Length is
 * checked before anything is read, and the body is counted while it streams, so an oversized upload is refused
 * (413) after at most `maxUploadBytes` + one chunk — never buffered whole.
 */
import { HttpError } from "./responses.js";

export interface ServerLimits {
  /** Largest request body (bytes). */
  maxUploadBytes: number;
  /** Most boxes one request may carry. */
  maxBoxes: number;
  /** Inference requests that may wait behind the running one; more are refused with 503. */
  maxQueue: number;
  /** Bound of the in-memory MONAI Label datastore (bytes). */
  datastoreBytes: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxUploadBytes: 1024 * 1024 * 1024,
  maxBoxes: 1000,
  maxQueue: 8,
  datastoreBytes: 1024 * 1024 * 1024,
};

export function tooLarge(limit: number): HttpError {
  return new HttpError(413, `request: body larger than the upload limit of ${formatBytes(limit)}`, {
    Connection: "close",
  });
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} bytes`;
}

/**
 * The body, counted as it streams: the stream errors as soon as more than `limit` bytes have passed, and
 * `exceeded()` tells afterwards whether that is why it failed.
 */
export function countedBody(
  body: ReadableStream<Uint8Array>,
  limit: number,
): { stream: ReadableStream<Uint8Array>; exceeded: () => boolean } {
  let seen = 0;
  const stream = body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > limit) controller.error(new Error(`body larger than ${limit} bytes`));
        else controller.enqueue(chunk);
      },
    }),
  );
  return { stream, exceeded: () => seen > limit };
}

/** Whether the request declares a multipart/form-data body. */
export function isMultipart(request: Request): boolean {
  return /^multipart\/form-data\s*;/i.test(request.headers.get("content-type") ?? "");
}

/**
 * The request's multipart/form-data fields. 415 for another content type, 413 past `limit` (declared or
 * counted), 400 for a body that is not valid multipart (e.g. cut short).
 */
export async function readUploadForm(request: Request, limit: number): Promise<FormData> {
  const type = request.headers.get("content-type");
  if (!isMultipart(request)) {
    throw new HttpError(
      415,
      `request: Content-Type must be multipart/form-data with a boundary, got ${type ? `"${type}"` : "none"}`,
    );
  }
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
  if (!request.body) throw new HttpError(400, "request: the multipart body is empty");
  const counted = countedBody(request.body, limit);
  try {
    return await new Response(counted.stream, { headers: { "content-type": type! } }).formData();
  } catch (error) {
    if (counted.exceeded()) throw tooLarge(limit);
    throw new HttpError(400, `request: malformed multipart/form-data body (${(error as Error).message})`);
  }
}
