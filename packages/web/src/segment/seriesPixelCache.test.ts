import { readFileSync } from "node:fs";
import { decodeDicomPixels, readDicom, type InputBytes } from "@daft/core";
import { describe, expect, it } from "vitest";
import { SeriesPixelCache } from "./seriesPixelCache.js";

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../../../../fixtures/formats/compressed/${name}`, import.meta.url)));
const series = (files: [string, Uint8Array][]): InputBytes => ({
  kind: "dicom-series",
  name: "ct",
  files: files.map(([name, bytes]) => ({ name, bytes })),
});

describe("SeriesPixelCache", () => {
  const files: [string, Uint8Array][] = [
    ["ls.dcm", fixture("ct_jpeg_ls.dcm")],
    ["rle.dcm", fixture("ct_rle.dcm")],
    ["native.dcm", fixture("ct_native.dcm")],
  ];

  it("keeps the decoded values of compressed slices only, and gives them back for the same files", () => {
    const cache = new SeriesPixelCache();
    const decoded = cache.decodeAndKeep(series(files));
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

  it("attaches nothing to other files, a single file or a series it has not decoded", () => {
    const cache = new SeriesPixelCache();
    cache.decodeAndKeep(series(files));
    const other = series([files[0]!, files[1]!]);
    expect(cache.attach(other)).toBe(other);
    const single: InputBytes = { kind: "file", name: "ls.dcm", bytes: files[0]![1] };
    expect(cache.decodeAndKeep(single)).toBe(single);
    expect(new SeriesPixelCache().attach(series(files))).toEqual(series(files));
  });
});
