import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { afterEach, describe, expect, it } from "vitest";
import { parseManifest } from "@daft/core";
import { writeOracleModelDir } from "./oracleModelDir.js";
import { boxDecoder, identityEncoder, intensityInBoxDecoder } from "./oracleModels.js";
import { syntheticDecoder, syntheticEncoder } from "./syntheticModels.js";

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "daft-oracle-models-"));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function sha256Of(path: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(path))
    .digest("hex");
}

describe("writeOracleModelDir", () => {
  it("writes encoder.onnx, decoder.onnx and a manifest that validates and names their hashes", async () => {
    const dir = join(await tempDir(), "models");
    const returned = await writeOracleModelDir(dir, {
      name: "oracle",
      encoder: identityEncoder(),
      decoder: boxDecoder(),
    });
    const manifest = parseManifest(JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")));
    expect(manifest).toEqual(returned);
    expect(manifest.fallback).toBe("oracle");
    const [expert] = manifest.experts;
    expect(expert).toMatchObject({
      name: "oracle",
      modalities: ["*"],
      inputSize: 256,
      embeddingShape: [3, 256, 256],
      normalization: "minmax01",
      encoder: { file: "encoder.onnx" },
      decoder: { file: "decoder.onnx" },
    });
    expect(expert!.encoder.sha256).toBe(await sha256Of(join(dir, "encoder.onnx")));
    expect(expert!.decoder.sha256).toBe(await sha256Of(join(dir, "decoder.onnx")));
    const decoder = await ort.InferenceSession.create(join(dir, expert!.decoder.file));
    expect(decoder.inputNames).toEqual(["embedding", "boxes"]);
    expect(decoder.outputNames).toEqual(["logits", "iou"]);
    await decoder.release();
  });

  it("writes several experts with routing, each under its own file names", async () => {
    const dir = await tempDir();
    const encoder = syntheticEncoder({ gmac: 0.2, channels: 32 });
    const manifest = await writeOracleModelDir(
      dir,
      [
        { name: "general", encoder: identityEncoder(), decoder: intensityInBoxDecoder() },
        {
          name: "CT",
          encoder,
          decoder: syntheticDecoder({ embeddingShape: encoder.embeddingShape }),
          modalities: ["CT"],
        },
      ],
      { filenameRules: [{ pattern: "^3DBox_CT", modality: "CT" }] },
    );
    expect(manifest.fallback).toBe("general");
    expect(manifest.experts.map((e) => [e.name, e.encoder.file, e.embeddingShape])).toEqual([
      ["general", "general.encoder.onnx", [3, 256, 256]],
      ["CT", "CT.encoder.onnx", [32, 64, 64]],
    ]);
    expect(manifest.routing.filenameRules).toEqual([{ pattern: "^3DBox_CT", modality: "CT" }]);
    expect(manifest.experts[1]!.decoder.sha256).toBe(await sha256Of(join(dir, "CT.decoder.onnx")));
  });

  it("refuses an encoder and decoder whose embedding shapes differ", async () => {
    const dir = await tempDir();
    await expect(
      writeOracleModelDir(dir, {
        name: "bad",
        encoder: syntheticEncoder({ gmac: 0.2 }),
        decoder: boxDecoder(),
      }),
    ).rejects.toThrow(/encoder embedding \[128, 64, 64\] does not match its decoder's \[3, 256, 256\]/);
  });

  it("refuses a fallback that is not one of the experts", async () => {
    const dir = await tempDir();
    await expect(
      writeOracleModelDir(
        dir,
        { name: "a", encoder: identityEncoder(), decoder: boxDecoder() },
        { fallback: "b" },
      ),
    ).rejects.toThrow(/fallback "b" is not one of the experts/);
  });
});
