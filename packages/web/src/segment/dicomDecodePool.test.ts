import { readFileSync } from "node:fs";
import { answerDecodeRequest, decodeDicomPixels, readDicom, type DicomFileBytes } from "@daft/core";
import { describe, expect, it } from "vitest";
import {
  decodeCompressedSlices,
  decodeWorkerCount,
  type DecodeWorker,
  type SpawnDecodeWorker,
} from "./dicomDecodePool.js";

const fixture = (path: string) =>
  new Uint8Array(readFileSync(new URL(`../../../../fixtures/formats/${path}`, import.meta.url)));

/** Compressed CT slices the core decodes: RLE, JPEG Lossless, JPEG-LS, HTJ2K. */
const COMPRESSED = [
  "compressed/ct_rle.dcm",
  "compressed/ct_jpeg_sv1.dcm",
  "compressed/ct_jpeg_p14_sv3.dcm",
  "compressed/ct_jpeg_ls.dcm",
  "htj2k/ct_htj2k.dcm",
].map(fixture);

/** `count` compressed files, then an uncompressed one and one that is not DICOM (neither is decoded). */
function series(count: number): DicomFileBytes[] {
  const files = Array.from({ length: count }, (_, i) => ({
    name: `IM${i}`,
    bytes: COMPRESSED[i % COMPRESSED.length]!,
  }));
  return [
    ...files,
    { name: "native", bytes: fixture("compressed/ct_native.dcm") },
    { name: "notes.txt", bytes: new TextEncoder().encode("not a DICOM file") },
  ];
}

/** A JPEG-LS file whose codestream has lost its SOI marker: readable, not decodable. */
function undecodable(): Uint8Array {
  const bytes = fixture("compressed/ct_jpeg_ls.dcm").slice();
  const soi = bytes.findIndex((v, i) => v === 0xff && bytes[i + 1] === 0xd8);
  bytes[soi + 1] = 0;
  return bytes;
}

const decodedHere = (file: DicomFileBytes) =>
  decodeDicomPixels(readDicom(file.bytes, file.name), file.name).values;

/**
 * Fake workers that decode as dicomDecodeWorker.ts does, replying on a later task; after `failAfter` replies in
 * all, the worker asked next fails instead.
 */
function fakeWorkers(failAfter = Infinity) {
  const made = { spawned: 0, terminated: 0, decoded: 0 };
  const spawn: SpawnDecodeWorker = (): DecodeWorker => {
    made.spawned++;
    let onReply: (reply: ReturnType<typeof answerDecodeRequest>) => void = () => {};
    let onFailure = () => {};
    let ended = false;
    return {
      decode(request) {
        setTimeout(() => {
          if (ended) return; // as a terminated Web Worker: no more messages
          if (made.decoded >= failAfter) return onFailure();
          made.decoded++;
          onReply(answerDecodeRequest(structuredClone(request)));
        });
      },
      listen(reply, failure) {
        onReply = reply;
        onFailure = failure;
      },
      terminate() {
        ended = true;
        made.terminated++;
      },
    };
  };
  return { spawn, made };
}

describe("decodeCompressedSlices", () => {
  it("decodes a long series on the pool to the values sequential decoding gives, and ends the workers", async () => {
    const files = series(12);
    const { spawn, made } = fakeWorkers();
    const { values, workers } = await decodeCompressedSlices(files, 8, spawn);
    expect(workers).toBe(3); // 12 slices, at least 4 per worker
    expect(made).toEqual({ spawned: 3, terminated: 3, decoded: 12 });
    files.slice(0, 12).forEach((file, i) => expect(values[i]).toEqual(decodedHere(file)));
    expect(values.slice(12)).toEqual([undefined, undefined]); // uncompressed and non-DICOM: left to the core
  });

  it("uses at most one worker per thread, and none for a short series or a single thread", async () => {
    for (const [slices, threads, expected] of [
      [12, 2, 2],
      [300, 16, 8],
      [300, 4, 4],
      [8, 8, 2],
      [7, 8, 0],
      [40, 1, 0],
    ] as const) {
      expect(decodeWorkerCount(slices, threads), `${slices} slices, ${threads} threads`).toBe(expected);
    }
    const files = series(7);
    const { spawn, made } = fakeWorkers();
    const { values, workers } = await decodeCompressedSlices(files, 8, spawn);
    expect(workers).toBe(0);
    expect(made.spawned).toBe(0);
    files.slice(0, 7).forEach((file, i) => expect(values[i]).toEqual(decodedHere(file)));
  });

  it("leaves a file no worker can decode to the core, which reports it as without workers", async () => {
    const files = series(10);
    files[4] = { name: "broken", bytes: undecodable() };
    const { spawn, made } = fakeWorkers();
    const { values, workers } = await decodeCompressedSlices(files, 2, spawn);
    expect(workers).toBe(2);
    expect(made.decoded).toBe(10);
    expect(values[4]).toBeUndefined();
    expect(values[5]).toEqual(decodedHere(files[5]!));
    expect(() => decodedHere(files[4]!)).toThrow(/JPEG-LS: no SOI marker/); // the core's error, as always
  });

  it("decodes the slices a failed worker left on this thread, keeping what the pool decoded", async () => {
    const files = series(16);
    const { spawn, made } = fakeWorkers(5);
    const { values, workers } = await decodeCompressedSlices(files, 4, spawn);
    expect(workers).toBe(0);
    expect(made.decoded).toBe(5);
    expect(made.terminated).toBe(made.spawned);
    files.slice(0, 16).forEach((file, i) => expect(values[i]).toEqual(decodedHere(file)));
  });

  it("decodes on this thread when no worker can be started", async () => {
    const files = series(8);
    const spawn: SpawnDecodeWorker = () => {
      throw new ReferenceError("Worker is not defined");
    };
    const { values, workers } = await decodeCompressedSlices(files, 8, spawn);
    expect(workers).toBe(0);
    files.slice(0, 8).forEach((file, i) => expect(values[i]).toEqual(decodedHere(file)));
  });
});
