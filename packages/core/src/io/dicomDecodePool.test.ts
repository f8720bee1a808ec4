import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DaftInputError } from "../errors.js";
import { readDicom } from "./dicom.js";
import { decodeDicomPixels } from "./dicomPixels.js";
import {
  decodeCompressedSlices,
  decodeWorkerCount,
  type DecodedSlices,
  type DecodeWorker,
  type SpawnDecodeWorker,
} from "./dicomDecodePool.js";
import { answerDecodeRequest, type DecodeReply } from "./dicomDecodeRequest.js";
import type { DicomFileBytes } from "./dicomSeries.js";

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

interface FakeBehaviour {
  /** After this many replies in all, the worker asked next fails instead. */
  failAfter?: number;
  /** The worker asked for this file never answers (a decoder stuck in a loop). */
  hangOn?: string;
  /** Replies carry this id instead of the one asked for. */
  wrongId?: number;
}

/** Fake workers that decode as dicomDecodeWorker.ts does, replying 1 ms later (as a worker: on a later task). */
function fakeWorkers({ failAfter = Infinity, hangOn, wrongId }: FakeBehaviour = {}) {
  const made = { spawned: 0, terminated: 0, decoded: 0 };
  const spawn: SpawnDecodeWorker = (): DecodeWorker => {
    made.spawned++;
    let onReply: (reply: DecodeReply) => void = () => {};
    let onFailure = () => {};
    let ended = false;
    return {
      decode(request) {
        if (request.name === hangOn) return;
        setTimeout(() => {
          if (ended) return; // as a terminated worker: no more messages
          if (made.decoded >= failAfter) return onFailure();
          made.decoded++;
          const reply = answerDecodeRequest(structuredClone(request));
          onReply(wrongId === undefined ? reply : { ...reply, id: wrongId });
        }, 1);
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

/** Runs the pool for `ms` of fake time, then expects it ended with no timer left behind. */
async function settled<T>(run: Promise<T>, ms = 1000): Promise<T> {
  const outcome = run.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  await vi.advanceTimersByTimeAsync(ms);
  const result = await outcome;
  expect(vi.getTimerCount(), "timers left running").toBe(0);
  if ("error" in result) throw result.error;
  return result.value;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("decodeCompressedSlices", () => {
  it("decodes a long series on the pool to the values sequential decoding gives, and ends the workers", async () => {
    const files = series(12);
    const { spawn, made } = fakeWorkers();
    const { values, workers } = await settled(decodeCompressedSlices(files, { threads: 8, spawn }));
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
    const { values, workers } = await settled(decodeCompressedSlices(files, { threads: 8, spawn }));
    expect(workers).toBe(0);
    expect(made.spawned).toBe(0);
    files.slice(0, 7).forEach((file, i) => expect(values[i]).toEqual(decodedHere(file)));
  });

  it("leaves a file no worker can decode to the core, which reports it as without workers", async () => {
    const files = series(10);
    files[4] = { name: "broken", bytes: undecodable() };
    const { spawn, made } = fakeWorkers();
    const { values, workers } = await settled(decodeCompressedSlices(files, { threads: 2, spawn }));
    expect(workers).toBe(2);
    expect(made.decoded).toBe(10);
    expect(values[4]).toBeUndefined();
    expect(values[5]).toEqual(decodedHere(files[5]!));
    expect(() => decodedHere(files[4]!)).toThrow(/JPEG-LS: no SOI marker/); // the core's error, as always
  });

  it("decodes the slices a failed worker left on the calling thread, keeping what the pool decoded", async () => {
    const files = series(16);
    const { spawn, made } = fakeWorkers({ failAfter: 5 });
    const { values, workers } = await settled(decodeCompressedSlices(files, { threads: 4, spawn }));
    expect(workers).toBe(0);
    expect(made.decoded).toBe(5);
    expect(made.terminated).toBe(made.spawned);
    files.slice(0, 16).forEach((file, i) => expect(values[i]).toEqual(decodedHere(file)));
  });

  it('with unanswered: "leave", keeps what the pool decoded and leaves the rest to the caller undecoded', async () => {
    const files = series(16);
    const { spawn, made } = fakeWorkers({ failAfter: 5 });
    const run = decodeCompressedSlices(files, { threads: 4, spawn, unanswered: "leave" });
    const { values, workers } = await settled(run);
    expect(workers).toBe(0);
    const answered = values.flatMap((v, i) => (v ? [i] : []));
    expect(answered).toHaveLength(made.decoded);
    answered.forEach((i) => expect(values[i]).toEqual(decodedHere(files[i]!)));
    // A short series starts no worker and decodes nothing here.
    const short = await settled(
      decodeCompressedSlices(series(3), { threads: 4, spawn, unanswered: "leave" }),
    );
    expect(short.values.every((v) => v === undefined)).toBe(true);
  });

  it("treats a reply for another slice as a failure, and decodes on the calling thread", async () => {
    const files = series(8);
    const { spawn, made } = fakeWorkers({ wrongId: 9 });
    const { values, workers } = await settled(decodeCompressedSlices(files, { threads: 2, spawn }));
    expect(workers).toBe(0);
    expect(made.terminated).toBe(2);
    files.slice(0, 8).forEach((file, i) => expect(values[i]).toEqual(decodedHere(file)));
  });

  it("decodes on the calling thread when no worker can be started", async () => {
    const files = series(8);
    const spawn: SpawnDecodeWorker = () => {
      throw new ReferenceError("Worker is not defined");
    };
    const { values, workers } = await settled(decodeCompressedSlices(files, { threads: 8, spawn }));
    expect(workers).toBe(0);
    files.slice(0, 8).forEach((file, i) => expect(values[i]).toEqual(decodedHere(file)));
  });

  it("ends the series with an error naming the file a worker hangs on, decoding nothing more", async () => {
    const files = series(12);
    const { spawn, made } = fakeWorkers({ hangOn: "IM5" });
    const run = decodeCompressedSlices(files, { threads: 3, spawn, sliceDeadlineMs: 200 });
    const error = await settled<DecodedSlices>(run, 300).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DaftInputError);
    expect((error as DaftInputError).oneLine()).toBe(
      "IM5: decoding its compressed pixel data did not finish within 0.2 s",
    );
    expect(made.terminated).toBe(3);
    expect(made.decoded).toBe(11); // the others went on until the deadline; the hung one was not decoded here
  });

  it("gives a worker that never answers 60 s per slice by default", async () => {
    const files = series(8);
    let terminated = 0;
    const silent: SpawnDecodeWorker = () => ({
      decode: () => {},
      listen: () => {},
      terminate: () => void terminated++,
    });
    const run = decodeCompressedSlices(files, { threads: 2, spawn: silent });
    const early = await Promise.race([
      run.then(
        () => "ended",
        () => "ended",
      ),
      vi.advanceTimersByTimeAsync(59_999),
    ]);
    expect(early).not.toBe("ended");
    const error = await settled<DecodedSlices>(run, 1).catch((e: unknown) => e);
    expect((error as DaftInputError).oneLine()).toBe(
      "IM0: decoding its compressed pixel data did not finish within 60 s",
    );
    expect(terminated).toBe(2);
  });
});
