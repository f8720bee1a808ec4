import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SegmentedInput } from "@daft/core";
import type { InputRef } from "./segmentInputs.js";
import { writeSegmentOutputs } from "./segmentOutputs.js";

/** Only the fields writeSegmentOutputs reads. */
function result(dicomSeg?: SegmentedInput["dicomSeg"]): SegmentedInput {
  return {
    format: "study",
    output: Uint8Array.of(1, 2),
    extension: ".nii.gz",
    ...(dicomSeg ? { dicomSeg } : {}),
  } as SegmentedInput;
}
const seg = { written: true as const, bytes: Uint8Array.of(9), segments: 1, frames: 1 };

describe("writeSegmentOutputs", () => {
  let dir = "";
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "daft-outputs-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("writes the label map and the DICOM-SEG beside it, named after the input's stem", async () => {
    const input: InputRef = { path: "/data/IMG1.dcm", kind: "file", name: "IMG1.dcm" };
    const files = await writeSegmentOutputs(input, result(seg), dir, new Map());
    expect(files).toEqual({ labelMap: join(dir, "IMG1.nii.gz"), dicomSeg: join(dir, "IMG1.seg.dcm") });
    expect(await readdir(dir)).toEqual(["IMG1.nii.gz", "IMG1.seg.dcm"]);
    expect([...(await readFile(join(dir, "IMG1.seg.dcm")))]).toEqual([9]);
  });

  it("passes on why no DICOM-SEG was written", async () => {
    const input: InputRef = { path: "/data/ct", kind: "dicom-folder", name: "ct" };
    const files = await writeSegmentOutputs(
      input,
      result({ written: false, reason: "empty" }),
      dir,
      new Map(),
    );
    expect(files).toEqual({ labelMap: join(dir, "ct.nii.gz"), dicomSegSkipped: "empty" });
  });

  it("writes nothing when a path clashes with an earlier input's file or lies in the series folder", async () => {
    const a: InputRef = { path: "/x/ct", kind: "dicom-folder", name: "ct" };
    const written = new Map([[join(dir, "ct.seg.dcm"), "/y/ct.dcm"]]);
    await expect(writeSegmentOutputs(a, result(seg), dir, written)).rejects.toThrow(
      /its DICOM-SEG .*ct\.seg\.dcm was already written for \/y\/ct\.dcm/,
    );
    const inside: InputRef = { path: dir, kind: "dicom-folder", name: "series" };
    await expect(writeSegmentOutputs(inside, result(seg), dir, new Map())).rejects.toThrow(
      /would land in the series folder itself/,
    );
    expect(await readdir(dir)).toEqual([]);
  });
});
