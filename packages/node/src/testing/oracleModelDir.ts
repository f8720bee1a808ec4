/**
 * Writes oracle/synthetic experts as a models folder (ONNX files + manifest.json) that
 * `daft segment --models <dir>` can load, exactly like the shipped models/ folder.
 */
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { MANIFEST_VERSION, parseManifest, type Manifest } from "@daft/core";
import { MODEL_INPUT_SIZE, type OracleDecoder, type OracleEncoder } from "./oracleModels.js";

export interface OracleExpertSpec {
  /** Expert name (letters, digits, `_.-`). */
  name: string;
  encoder: OracleEncoder;
  decoder: OracleDecoder;
  /** Modalities this expert serves (default ["*"]: the fallback for everything). */
  modalities?: string[];
}

export interface OracleModelDirOptions {
  /** Name of the fallback expert (default: the first). */
  fallback?: string;
  filenameRules?: { pattern: string; modality: string }[];
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * One expert writes `encoder.onnx` and `decoder.onnx`; several write `<name>.encoder.onnx` and
 * `<name>.decoder.onnx`. The manifest is validated with the engine's schema before it is written.
 */
export async function writeOracleModelDir(
  dir: string,
  experts: OracleExpertSpec | readonly OracleExpertSpec[],
  options: OracleModelDirOptions = {},
): Promise<Manifest> {
  const list = Array.isArray(experts)
    ? (experts as readonly OracleExpertSpec[])
    : [experts as OracleExpertSpec];
  const first = list[0];
  if (first === undefined) throw new Error(`${dir}: writeOracleModelDir needs at least one expert`);
  await mkdir(dir, { recursive: true });

  const entries = [];
  for (const expert of list) {
    if (!sameShape(expert.encoder.embeddingShape, expert.decoder.embeddingShape)) {
      throw new Error(
        `${dir}: expert ${expert.name} encoder embedding [${expert.encoder.embeddingShape.join(", ")}] ` +
          `does not match its decoder's [${expert.decoder.embeddingShape.join(", ")}]`,
      );
    }
    const prefix = list.length === 1 ? "" : `${expert.name}.`;
    const encoderFile = `${prefix}encoder.onnx`;
    const decoderFile = `${prefix}decoder.onnx`;
    await writeFile(join(dir, encoderFile), expert.encoder.bytes);
    await writeFile(join(dir, decoderFile), expert.decoder.bytes);
    entries.push({
      name: expert.name,
      modalities: expert.modalities ?? ["*"],
      encoder: { file: encoderFile, sha256: sha256Hex(expert.encoder.bytes) },
      decoder: { file: decoderFile, sha256: sha256Hex(expert.decoder.bytes) },
      inputSize: MODEL_INPUT_SIZE,
      embeddingShape: [...expert.encoder.embeddingShape],
      normalization: "minmax01" as const,
      version: "oracle",
      stage: "oracle",
    });
  }

  const manifest = parseManifest({
    format: "daft-manifest",
    version: MANIFEST_VERSION,
    experts: entries,
    fallback: options.fallback ?? first.name,
    routing: { filenameRules: options.filenameRules ?? [], metadataModalities: {} },
    createdBy: "@daft/node testing (oracle models)",
  });
  await writeFile(join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
