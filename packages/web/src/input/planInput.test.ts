import { describe, expect, it } from "vitest";
import { planInput } from "./planInput.js";

const files = (...paths: string[]) => paths.map((path) => ({ path }));

describe("which picked files make one input", () => {
  it("takes a single file as it is", () => {
    expect(planInput(files("scan.nii.gz"))).toEqual({ kind: "file", index: 0, name: "scan.nii.gz" });
    expect(planInput(files("folder/.DS_Store", "folder/IM1.dcm"))).toEqual({
      kind: "file",
      index: 1,
      name: "IM1.dcm",
    });
  });

  it("takes a folder's DICOM files as one series named after the folder, skipping case files and hidden files, sorted by path", () => {
    const plan = planInput(
      files("ct/b.dcm", "ct/a.dcm", "ct/notes.png", "ct/.hidden", "ct/IM3", "ct/seg.nrrd", "ct/t1.mha"),
    );
    expect(plan).toEqual({ kind: "dicom-series", indices: [4, 1, 0], name: "ct" });
  });

  it("refuses several pictures and files from several folders with a one-line reason", () => {
    expect(() => planInput(files("a.png", "b.png"))).toThrow(/2 images were given.*open one at a time/);
    expect(() => planInput(files("s1/a.dcm", "s2/b.dcm"))).toThrow(/come from 2 folders/);
    expect(() => planInput(files(".hidden"))).toThrow(/no files to open/);
  });
});
