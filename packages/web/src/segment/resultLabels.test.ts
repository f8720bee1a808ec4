import { encodePng, encodeSegmentationNpz, writeNifti } from "@daft/core";
import { describe, expect, it } from "vitest";
import { labelsFromOutput } from "./resultLabels.js";

describe("labelsFromOutput (the label map inside a local server's answer)", () => {
  const labels = Uint16Array.of(0, 1, 1, 0, 2, 2);

  it("reads an .npz's 'segs', a PNG and a NIfTI alike, in the input's voxel order", async () => {
    expect([...(await labelsFromOutput(encodeSegmentationNpz(labels, [2, 3]), "case.npz", 6))]).toEqual([
      ...labels,
    ]);
    expect([...(await labelsFromOutput(encodePng(Uint8Array.from(labels), 3, 2), "photo.png", 6))]).toEqual([
      ...labels,
    ]);
    const nifti = writeNifti(labels, [3, 2, 1], { gzip: true });
    expect([...(await labelsFromOutput(nifti, "scan.nii.gz", 6))]).toEqual([...labels]);
  });

  it("refuses a label map of another size, or a file it cannot show, naming it", async () => {
    await expect(labelsFromOutput(encodePng(new Uint8Array(4), 2, 2), "photo.png", 6)).rejects.toThrow(
      "photo.png: 4 labels for an image of 6 voxels",
    );
    await expect(labelsFromOutput(new Uint8Array(8), "seg.dcm", 6)).rejects.toThrow(
      "seg.dcm: not a label map the page can show (PNG, NIfTI, NRRD, MetaImage or .npz)",
    );
  });
});
