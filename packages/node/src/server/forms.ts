/**
 * Fields of a multipart upload (a JSON text field validated by its zod schema, file parts) and a multipart
 * response (MONAI Label's `output=all`: a `params` JSON part and an `image` file part).
 */
import { randomBytes } from "node:crypto";
import type * as z from "@daft/core/zod";
import type { Upload } from "./engine.js";
import { HttpError } from "./responses.js";
import { issuesLine } from "./schemas.js";

/**
 * A text field holding JSON, parsed and validated; `fallback` (JSON text) when the field is absent, else 400.
 * Every problem is a 400 naming the field.
 */
export function jsonField<S extends z.ZodMiniType>(
  form: FormData,
  field: string,
  schema: S,
  fallback?: string,
): z.output<S> {
  const value = form.get(field);
  if (value === null && fallback === undefined)
    throw new HttpError(400, `${field}: missing field (a JSON text part)`);
  if (value !== null && typeof value !== "string") {
    throw new HttpError(400, `${field}: must be a text field holding JSON, not a file`);
  }
  let json: unknown;
  try {
    json = JSON.parse(value ?? fallback!);
  } catch (error) {
    throw new HttpError(400, `${field}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new HttpError(400, `${field}: ${issuesLine(parsed.error)}`);
  return parsed.data;
}

/** The file parts named `field` (none: an empty list). A text value where a file belongs is a 400. */
export async function fileParts(form: FormData, field: string): Promise<Upload[]> {
  const uploads: Upload[] = [];
  for (const part of form.getAll(field)) {
    if (typeof part === "string")
      throw new HttpError(400, `${field}: must be a file upload, not a text field`);
    uploads.push({ fileName: part.name, bytes: new Uint8Array(await part.arrayBuffer()) });
  }
  return uploads;
}

export interface MultipartPart {
  name: string;
  fileName?: string;
  contentType: string;
  body: Uint8Array | string;
}

/** A multipart/form-data response body (RFC 7578) with a random boundary. */
export function multipartResponse(parts: MultipartPart[], status = 200): Response {
  const boundary = `daft-${randomBytes(12).toString("hex")}`;
  const encoder = new TextEncoder();
  const chunks: Uint8Array[] = [];
  for (const part of parts) {
    const file =
      part.fileName === undefined ? "" : `; filename="${part.fileName.replace(/[^\x20-\x7e]|["\\]/g, "_")}"`;
    chunks.push(
      encoder.encode(
        `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"${file}\r\n` +
          `Content-Type: ${part.contentType}\r\n\r\n`,
      ),
      typeof part.body === "string" ? encoder.encode(part.body) : part.body,
      encoder.encode("\r\n"),
    );
  }
  chunks.push(encoder.encode(`--${boundary}--\r\n`));
  const body = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return new Response(body, {
    status,
    headers: { "Content-Type": `multipart/form-data; boundary=${boundary}`, "Cache-Control": "no-store" },
  });
}
