import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { ExpertThreadDied } from "@daft/core";
import { identityEncoder, intensityInBoxDecoder, writeOracleModelDir } from "../testing/index.js";
import { startExpertWorker, type ExpertWorkerInit } from "./expertWorkerThread.js";
import { createSessionExpert } from "./onnxExpert.js";
import { OptimizedModelCache } from "./optimizedModelCache.js";

// The worker runs compiled JavaScript: the build's module (npm run build, as scripts/test.sh does first).
const builtWorker = new URL("../../dist/runtime/expertWorker.js", import.meta.url);

const dir = mkdtempSync(join(tmpdir(), "daft-expert-worker-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An oracle expert (embedding = image; logits = bright pixels inside the box) as the worker's start data. */
async function oracleInit(): Promise<ExpertWorkerInit> {
  const encoder = identityEncoder();
  const decoder = intensityInBoxDecoder();
  const manifest = await writeOracleModelDir(join(dir, "models"), { name: "oracle", encoder, decoder });
  const bytes = (b: Uint8Array) => ({ bytes: b, sha256: createHash("sha256").update(b).digest("hex") });
  return {
    spec: manifest.experts[0]!,
    encoder: bytes(encoder.bytes),
    decoder: bytes(decoder.bytes),
    intraOpThreads: 1,
    cacheDir: undefined,
    cacheMaxBytes: 0,
  };
}

function script(name: string, source: string): URL {
  const path = join(dir, name);
  writeFileSync(path, source);
  return pathToFileURL(path);
}

const S = 256;
const image = Float32Array.from({ length: 3 * S * S }, (_, i) => ((i * 7919) % 1000) / 1000);
const boxes = Float32Array.of(10, 20, 100, 200, 50, 5, 250, 60);

describe("an expert worker thread", () => {
  it("gives the main thread's sessions' results, bit for bit", async () => {
    expect(existsSync(builtWorker)).toBe(true);
    const init = await oracleInit();
    const main = await createSessionExpert(init.spec, init.encoder, init.decoder, {
      threads: 1,
      cache: new OptimizedModelCache(undefined),
    });
    const worker = await startExpertWorker(init, builtWorker);
    try {
      const [a, b] = await Promise.all([main.encode(image), worker.encode(image)]);
      expect(b.dims).toEqual(a.dims);
      expect(b.data).toEqual(a.data);
      const [da, db] = await Promise.all([main.decode(a, boxes), worker.decode(a, boxes)]);
      expect(db.count).toBe(2);
      expect(db.logits).toEqual(da.logits);
      expect(db.iou).toEqual(da.iou);
      // A model run that fails (an image of the wrong size) rejects with onnxruntime's message; the thread goes on.
      const failed = await worker.encode(new Float32Array(10)).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(Error);
      expect(failed).not.toBeInstanceOf(ExpertThreadDied);
      expect((await worker.encode(image)).data).toEqual(a.data);
    } finally {
      await worker.dispose?.();
      await main.dispose();
    }
  });

  it("rejects its start when the script throws or the sessions cannot open", async () => {
    const init = await oracleInit();
    await expect(startExpertWorker(init, script("throws.mjs", 'throw new Error("no");\n'))).rejects.toThrow(
      /could not start/,
    );
    const broken = { ...init, encoder: { ...init.encoder, bytes: Uint8Array.of(1, 2, 3) } };
    await expect(startExpertWorker(broken, builtWorker)).rejects.toThrow(/could not start/);
    await expect(startExpertWorker(init, undefined)).rejects.toThrow(/expertWorker.js not found/);
  });

  it("rejects its outstanding requests as dead when it exits, and says so once", async () => {
    const init = await oracleInit();
    const exitsOnRequest = script(
      "exits.mjs",
      'import { parentPort } from "node:worker_threads";\n' +
        'parentPort.postMessage({ ready: true });\nparentPort.on("message", () => process.exit(3));\n',
    );
    const worker = await startExpertWorker(init, exitsOnRequest);
    const deaths: string[] = [];
    worker.onDeath?.((reason) => deaths.push(reason));
    await expect(worker.encode(image)).rejects.toBeInstanceOf(ExpertThreadDied);
    await expect(worker.encode(image)).rejects.toBeInstanceOf(ExpertThreadDied);
    expect(deaths).toEqual(["exited (code 3)"]);
  });
});
