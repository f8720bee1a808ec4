/**
 * Response helpers of `daft serve`: JSON bodies, one-line JSON errors and the headers every response carries
 * (cross-origin isolation for onnxruntime-web threads, no MIME sniffing).
 */

/** Headers on every response (see notes/contract-serve-web.md). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
  "X-Content-Type-Options": "nosniff",
};

/** A request the server refuses with a 4xx/5xx status and a one-line message. */
export class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** Runs of white space (new lines included) become one space. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(`${JSON.stringify(body)}\n`, {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store", ...headers },
  });
}

/** `{"error": "<one line>"}` with the status. */
export function errorResponse(
  status: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return jsonResponse({ error: oneLine(message) }, status, headers);
}

/** The same response with the security headers added (a copy, so frozen headers are never touched). */
export function withSecurityHeaders(response: Response): Response {
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) headers.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/**
 * `attachment; filename="…"` with an ASCII fallback and the exact UTF-8 name (RFC 6266 / 8187), so a file name
 * can never break the header.
 */
export function attachmentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

/** Media type of a label map / input file by its name. */
export function mediaTypeOf(fileName: string): string {
  const lower = fileName.toLowerCase();
  if (lower.endsWith(".npz")) return "application/zip";
  if (lower.endsWith(".gz")) return "application/gzip";
  if (lower.endsWith(".png")) return "image/png";
  return "application/octet-stream";
}
