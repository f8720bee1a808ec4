import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EarlierRows, expectedOutputPaths, outputsAreCurrent } from "./continueRun.js";
import type { InputRef } from "./segmentInputs.js";

const file = (name: string): InputRef => ({ path: `/in/${name}`, kind: "file", name });
const requested = { outDir: "/out", dicomSeg: false, slicerSeg: false };

describe("expectedOutputPaths", () => {
  it("predicts the label map's name as segmentInput writes it for each input format", () => {
    const names = (input: InputRef) => expectedOutputPaths(input, requested);
    expect(names(file("2DBox_US_a.npz"))).toEqual(["/out/2DBox_US_a.npz"]);
    expect(names(file("ct.nii.gz"))).toEqual(["/out/ct.nii.gz"]);
    expect(names(file("ct.nii"))).toEqual(["/out/ct.nii"]);
    expect(names(file("scan.NRRD"))).toEqual(["/out/scan.nrrd"]);
    expect(names(file("scan.mha"))).toEqual(["/out/scan.mha"]);
    expect(names(file("photo.jpg"))).toEqual(["/out/photo.png"]);
    expect(names(file("slide.tiff"))).toEqual(["/out/slide.png"]);
    expect(names(file("IMG0001.dcm"))).toEqual(["/out/IMG0001.nii.gz"]);
    expect(names({ path: "/in/series", kind: "dicom-folder", name: "series" })).toEqual([
      "/out/series.nii.gz",
    ]);
  });

  it("adds the files the options ask for, and gives up on names that do not say the format", () => {
    const all = { ...requested, dicomSeg: true, slicerSeg: true, overlayOf: () => "/pictures/ct.png" };
    expect(expectedOutputPaths(file("ct.dcm"), all)).toEqual([
      "/out/ct.nii.gz",
      "/out/ct.seg.dcm",
      "/out/ct.seg.nrrd",
      "/pictures/ct.png",
    ]);
    expect(expectedOutputPaths(file("IM000017"), requested)).toBeUndefined();
  });
});

describe("outputsAreCurrent", () => {
  const dir = mkdtempSync(join(tmpdir(), "daft-continue-"));
  const at = (path: string, seconds: number) => {
    writeFileSync(path, "x");
    utimesSync(path, seconds, seconds);
  };

  it("needs every output, each at least as new as the input", async () => {
    const input = join(dir, "a.npz");
    at(input, 1000);
    at(join(dir, "a.out"), 1000);
    at(join(dir, "b.out"), 2000);
    const ref: InputRef = { path: input, kind: "file", name: "a.npz" };
    expect(await outputsAreCurrent(ref, [join(dir, "a.out"), join(dir, "b.out")])).toBe(true);
    expect(await outputsAreCurrent(ref, [join(dir, "a.out"), join(dir, "missing.out")])).toBe(false);
    at(input, 1500); // the input changed after a.out was written
    expect(await outputsAreCurrent(ref, [join(dir, "a.out"), join(dir, "b.out")])).toBe(false);
  });

  it("dates a DICOM series folder by its newest file", async () => {
    const series = join(dir, "series");
    mkdirSync(series);
    at(join(series, "1.dcm"), 1000);
    at(join(series, "2.dcm"), 3000);
    utimesSync(series, 1000, 1000);
    at(join(dir, "series.nii.gz"), 2000);
    const ref: InputRef = { path: series, kind: "dicom-folder", name: "series" };
    expect(await outputsAreCurrent(ref, [join(dir, "series.nii.gz")])).toBe(false);
    utimesSync(join(series, "2.dcm"), 1500, 1500);
    expect(await outputsAreCurrent(ref, [join(dir, "series.nii.gz")])).toBe(true);
  });
});

describe("EarlierRows", () => {
  it("finds a case's row by its full name, and ignores a file with another header", () => {
    const text = "case,total_ms\na,b.npz,1.0\na.npz,2.0\n";
    const timings = new EarlierRows(`${text}a.npz,3.0\n`, "case,total_ms");
    expect(timings.rowsOf("a.npz")).toEqual(["a.npz,2.0", "a.npz,3.0"]);
    expect(timings.rowsOf("a,b.npz")).toEqual(["a,b.npz,1.0"]);
    expect(timings.rowsOf("c.npz")).toEqual([]);
    expect(new EarlierRows(text, "case,modality,total_ms").rowsOf("a.npz")).toEqual([]);
    expect(new EarlierRows(undefined, "case,total_ms").rowsOf("a.npz")).toEqual([]);
  });
});
