import { readFileSync } from "node:fs";
import {
  decodeCompressedSlices,
  decodeDicomPixels,
  readDicom,
  type DecodedSlices,
  type InputBytes,
} from "@daft/core";
import { describe, expect, it } from "vitest";
import { SeriesPixelCache, type DecodeSeriesSlices } from "./seriesPixelCache.js";

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../../../../fixtures/formats/compressed/${name}`, import.meta.url)));
const series = (files: [string, Uint8Array][]): InputBytes => ({
  kind: "dicom-series",
  name: "ct",
  files: files.map(([name, bytes]) => ({ name, bytes })),
});
/** Decoding on this thread, as the pool does for a short series. */
const decodeHere: DecodeSeriesSlices = (files) =>
  decodeCompressedSlices(files, {
    threads: 1,
    spawn: () => {
      throw new Error("a short series starts no worker");
    },
  });

describe("SeriesPixelCache", () => {
  const files: [string, Uint8Array][] = [
    ["ls.dcm", fixture("ct_jpeg_ls.dcm")],
    ["rle.dcm", fixture("ct_rle.dcm")],
    ["native.dcm", fixture("ct_native.dcm")],
  ];

  it("keeps the decoded values of compressed slices only, and gives them back for the same files", async () => {
    const cache = new SeriesPixelCache(decodeHere);
    const { input: decoded, decodeWorkers } = await cache.decodeAndKeep(series(files));
    expect(decodeWorkers).toBe(0);
    if (decoded.kind !== "dicom-series") throw new Error("not a series");
    const [ls, rle, native] = decoded.files;
    expect([...ls!.decodedValues!]).toEqual([
      ...decodeDicomPixels(readDicom(files[0]![1], "ls"), "ls").values,
    ]);
    expect(rle!.decodedValues).toBeInstanceOf(Float32Array);
    expect(native!.decodedValues).toBeUndefined();
    const again = cache.attach(series(files));
    if (again.kind !== "dicom-series") throw new Error("not a series");
    expect(again.files[0]!.decodedValues).toBe(ls!.decodedValues);
  });

  it("attaches nothing to other files, a single file or a series it has not decoded", async () => {
    const cache = new SeriesPixelCache(decodeHere);
    await cache.decodeAndKeep(series(files));
    const other = series([files[0]!, files[1]!]);
    expect(cache.attach(other)).toBe(other);
    const single: InputBytes = { kind: "file", name: "ls.dcm", bytes: files[0]![1] };
    expect(await cache.decodeAndKeep(single)).toEqual({ input: single, decodeWorkers: 0 });
    expect(new SeriesPixelCache(decodeHere).attach(series(files))).toEqual(series(files));
  });

  it("keeps what the decoder gives, by file, and says how many workers decoded it", async () => {
    const pooled = new Float32Array([1, 2, 3]);
    const decoder: DecodeSeriesSlices = async (): Promise<DecodedSlices> => ({
      values: [undefined, pooled, undefined],
      workers: 3,
    });
    const cache = new SeriesPixelCache(decoder);
    const { input, decodeWorkers } = await cache.decodeAndKeep(series(files));
    expect(decodeWorkers).toBe(3);
    if (input.kind !== "dicom-series") throw new Error("not a series");
    expect(input.files.map((f) => f.decodedValues)).toEqual([undefined, pooled, undefined]);
  });
});
