import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DaftInputError, type DicomFileBytes } from "@daft/core";
import { afterAll, describe, expect, it } from "vitest";
import { fileErrorLine } from "../cli/common.js";
import { decodeSeriesInWorkers, decodeThread } from "./dicomDecodePool.js";

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../../../../fixtures/formats/compressed/${name}`, import.meta.url)));

/** 8 compressed slices (RLE, JPEG-LS) and an uncompressed one: enough for two workers. */
const files: DicomFileBytes[] = [
  ...Array.from({ length: 8 }, (_, i) => ({
    name: `/series/IM${i}`,
    bytes: fixture(i % 2 ? "ct_jpeg_ls.dcm" : "ct_rle.dcm"),
  })),
  { name: "/series/native", bytes: fixture("ct_native.dcm") },
];

/** Tiny worker thread scripts that misbehave, in a temporary folder. */
const dir = mkdtempSync(join(tmpdir(), "daft-decode-pool-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function script(name: string, source: string): URL {
  const path = join(dir, name);
  writeFileSync(path, source);
  return pathToFileURL(path);
}

describe("decodeSeriesInWorkers on worker threads", () => {
  it("leaves the slices to the core when the worker threads exit without a word (no hang)", async () => {
    const exits = script("exits.mjs", "process.exit(3);\n");
    const { files: decoded, workers } = await decodeSeriesInWorkers(files, 2, {
      spawn: () => decodeThread(exits),
    });
    expect(workers).toBe(0);
    // Unanswered slices are the core's to decode as it assembles the volume, as without workers.
    expect(decoded.every((file) => file.decodedValues === undefined)).toBe(true);
  });

  it("leaves the slices to the core when a worker thread's script throws", async () => {
    const throws = script("throws.mjs", 'throw new Error("cannot start");\n');
    const { files: decoded, workers } = await decodeSeriesInWorkers(files, 2, {
      spawn: () => decodeThread(throws),
    });
    expect(workers).toBe(0);
    expect(decoded.every((file) => file.decodedValues === undefined)).toBe(true);
  });

  it("fails the series with one line naming the file a worker thread hangs on, and ends the threads", async () => {
    const hangs = script(
      "hangs.mjs",
      'import { parentPort } from "node:worker_threads";\nparentPort.on("message", () => { for (;;); });\n',
    );
    const started = performance.now();
    const error = await decodeSeriesInWorkers(files, 2, {
      spawn: () => decodeThread(hangs),
      sliceDeadlineMs: 300,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DaftInputError);
    expect(fileErrorLine(error, "/series")).toBe(
      "/series/IM0: decoding its compressed pixel data did not finish within 0.3 s",
    );
    expect(performance.now() - started).toBeLessThan(2000); // the looping threads were terminated, not awaited
  });
});
