import { readFileSync } from "node:fs";
import {
  answerDecodeRequest,
  DaftInputError,
  decodeDicomPixels,
  readDicom,
  type DecodeRequest,
  type DicomFileBytes,
} from "@daft/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { browserDecodeThreads, decodeSeriesOnWebWorkers } from "./dicomDecodePool.js";

// The scheduling itself is tested in packages/core/src/io/dicomDecodePool.test.ts; these test the Web Worker side.

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../../../../fixtures/formats/compressed/${name}`, import.meta.url)));

/** `count` compressed slices (RLE, JPEG-LS) and an uncompressed one. */
function series(count: number): DicomFileBytes[] {
  return [
    ...Array.from({ length: count }, (_, i) => ({
      name: `IM${i}`,
      bytes: fixture(i % 2 ? "ct_jpeg_ls.dcm" : "ct_rle.dcm"),
    })),
    { name: "native", bytes: fixture("ct_native.dcm") },
  ];
}

const decodedHere = ({ name, bytes }: DicomFileBytes) =>
  decodeDicomPixels(readDicom(bytes, name), name).values;

type Behaviour = "decodes" | "fails" | "hangs";

/** Stands in for the browser's Worker: replies on a later task as dicomDecodeWorker.ts does, fails, or hangs. */
function stubWorkers(behaviour: Behaviour, cores = 4) {
  const made: FakeWebWorker[] = [];
  class FakeWebWorker {
    onmessage: ((event: MessageEvent) => void) | null = null;
    onerror: ((event: ErrorEvent) => void) | null = null;
    onmessageerror: (() => void) | null = null;
    terminated = false;
    readonly preventDefault = vi.fn();
    constructor(
      readonly url: URL,
      readonly options: WorkerOptions,
    ) {
      made.push(this);
    }
    postMessage(request: DecodeRequest) {
      if (behaviour === "hangs") return;
      setTimeout(() => {
        if (this.terminated) return;
        if (behaviour === "fails") {
          this.onerror?.({ preventDefault: this.preventDefault } as unknown as ErrorEvent);
          return;
        }
        this.onmessage?.({ data: answerDecodeRequest(structuredClone(request)) } as MessageEvent);
      }, 1);
    }
    terminate() {
      this.terminated = true;
    }
  }
  vi.stubGlobal("Worker", FakeWebWorker);
  vi.stubGlobal("navigator", { hardwareConcurrency: cores });
  return made;
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe("decodeSeriesOnWebWorkers", () => {
  it("decodes on module workers running dicomDecodeWorker.ts, one per core, and terminates them", async () => {
    const made = stubWorkers("decodes", 2);
    const files = series(12);
    const { values, workers } = await decodeSeriesOnWebWorkers(files);
    expect(workers).toBe(2);
    expect(made).toHaveLength(2);
    expect(made.every((w) => w.url.pathname.endsWith("/segment/dicomDecodeWorker.ts"))).toBe(true);
    expect(made.every((w) => w.options.type === "module" && w.terminated)).toBe(true);
    files.slice(0, 12).forEach((file, i) => expect(values[i]).toEqual(decodedHere(file)));
    expect(values[12]).toBeUndefined(); // uncompressed: left to the core
  });

  it("handles a worker's script error and decodes on this thread", async () => {
    const made = stubWorkers("fails");
    const files = series(8);
    const { values, workers } = await decodeSeriesOnWebWorkers(files);
    expect(workers).toBe(0);
    expect(made.some((w) => w.preventDefault.mock.calls.length > 0)).toBe(true);
    expect(made.every((w) => w.terminated)).toBe(true);
    files.slice(0, 8).forEach((file, i) => expect(values[i]).toEqual(decodedHere(file)));
  });

  it("fails the series naming the file a worker hangs on, after 60 s, and terminates the workers", async () => {
    vi.useFakeTimers();
    const made = stubWorkers("hangs", 2);
    const run = decodeSeriesOnWebWorkers(series(8)).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(60_000);
    const error = await run;
    expect(error).toBeInstanceOf(DaftInputError);
    // segmentWorker.ts posts this line to the page, as for any file it cannot decode.
    expect((error as DaftInputError).oneLine()).toBe(
      "IM0: decoding its compressed pixel data did not finish within 60 s",
    );
    expect(made.every((w) => w.terminated)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("uses this browser's cores, at most 8, and one when it does not say", () => {
    vi.stubGlobal("navigator", { hardwareConcurrency: 16 });
    expect(browserDecodeThreads()).toBe(8);
    vi.stubGlobal("navigator", { hardwareConcurrency: 3 });
    expect(browserDecodeThreads()).toBe(3);
    vi.stubGlobal("navigator", {});
    expect(browserDecodeThreads()).toBe(1);
  });
});
