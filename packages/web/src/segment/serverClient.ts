/**
 * "Local server" mode: the input's files go to `daft serve` (POST /api/v1/segment, see
 * notes/contract-serve-web.md), which runs the same segmentInput on onnxruntime-node and answers with the label map
 * file (base64) and the case record.
 */
import type { CaseRecord } from "@daft/core";
import type { RoutingOverrides, SegmentOutcome } from "./messages.js";

export interface ServerReply {
  fileName: string;
  mediaType: string;
  output: string;
  record: CaseRecord;
}

/** The multipart body: `request` JSON, then one `file` part per input file (several = one DICOM series). */
export function segmentRequestBody(
  files: readonly File[],
  boxes: number[][],
  overrides: RoutingOverrides,
): FormData {
  const form = new FormData();
  form.append("request", JSON.stringify({ boxes, ...overrides }));
  for (const file of files) form.append("file", file, file.name);
  return form;
}

export function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Checks a reply's shape; the label map's format follows from its file name (.npz = challenge 'segs'). */
export function parseServerReply(json: unknown): SegmentOutcome & { fileName: string } {
  const reply = json as Partial<ServerReply> | null;
  if (!reply || typeof reply.output !== "string" || typeof reply.fileName !== "string" || !reply.record) {
    throw new Error("the server's reply lacks fileName, output or record");
  }
  const npz = /\.npz$/i.test(reply.fileName);
  const extension = npz ? "" : (/\.(nii\.gz|nii|png|nrrd|mha)$/i.exec(reply.fileName)?.[0] ?? "");
  return {
    fileName: reply.fileName,
    format: npz ? "npz" : "study",
    output: base64ToBytes(reply.output),
    extension,
    record: reply.record,
    runtime: "local server · onnxruntime-node",
  };
}

export async function segmentOnServer(
  files: readonly File[],
  boxes: number[][],
  overrides: RoutingOverrides,
): Promise<SegmentOutcome & { fileName: string }> {
  let response: Response;
  try {
    response = await fetch("/api/v1/segment", {
      method: "POST",
      body: segmentRequestBody(files, boxes, overrides),
    });
  } catch (e) {
    throw new Error(`local server unreachable (${(e as Error).message}); start it with: daft serve`);
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`local server answered HTTP ${response.status} without JSON: ${text.slice(0, 120)}`);
  }
  if (!response.ok) {
    const error = (json as { error?: unknown }).error;
    throw new Error(typeof error === "string" ? error : `local server answered HTTP ${response.status}`);
  }
  return parseServerReply(json);
}

export async function serverHealth(): Promise<string | undefined> {
  try {
    const response = await fetch("/api/v1/health");
    if (!response.ok) return undefined;
    const json = (await response.json()) as { ok?: boolean; version?: string };
    return json.ok ? `daft serve ${json.version ?? ""}`.trim() : undefined;
  } catch {
    return undefined;
  }
}
