import { describe, expect, it } from "vitest";
import { readNrrd, writeNrrd } from "./nrrd.js";
import { decodeNrrdStudy } from "./nrrdStudy.js";
import { boxSegments, encodeSlicerSegmentation } from "./slicerSegmentation.js";

const keyValuesOf = (bytes: Uint8Array) => new Map(readNrrd(bytes, "t.seg.nrrd").keyValues);

describe("encodeSlicerSegmentation", () => {
  // 4 (x) × 3 (y) × 2 (z); label 1 spans x 1..2, y 0..1, z 0; label 2 one voxel (3, 2, 1); label 3 absent.
  const labels = new Uint16Array(24);
  labels[1] = labels[2] = labels[5] = labels[6] = 1;
  labels[12 + 11] = 2;
  const segments = [1, 2, 3].map((label) => ({
    label,
    name: `box ${label}`,
    colour: [255, 0, 128] as const,
  }));
  const rasAffine = [
    [-0.8, 0, 0, 10],
    [0, 0.9, 0, -20],
    [0, 0, 2.5, 30],
    [0, 0, 0, 1],
  ];

  it("writes the labels as uint8 in LPS: a RAS affine's first two rows negated", () => {
    const nrrd = readNrrd(
      encodeSlicerSegmentation(labels, { sizes: [4, 3, 2], affine: rasAffine, space: "RAS" }, segments),
      "t.seg.nrrd",
    );
    expect(nrrd.type).toBe("uint8");
    expect(nrrd.sizes).toEqual([4, 3, 2]);
    expect(Array.from(nrrd.data)).toEqual(Array.from(labels));
    expect(nrrd.space).toBe("left-posterior-superior");
    expect(nrrd.spaceDirections).toEqual([
      [0.8, 0, 0],
      [0, -0.9, 0],
      [0, 0, 2.5],
    ]);
    expect(nrrd.spaceOrigin).toEqual([-10, 20, 30]);
    expect(nrrd.encoding).toBe("gzip");
  });

  it("keeps an LPS affine as it is", () => {
    const lps = rasAffine.map((row) => [...row]);
    const nrrd = readNrrd(
      encodeSlicerSegmentation(labels, { sizes: [4, 3, 2], affine: lps, space: "LPS" }, segments),
      "t.seg.nrrd",
    );
    expect(nrrd.spaceDirections![0]).toEqual([-0.8, 0, 0]);
    expect(nrrd.spaceOrigin).toEqual([10, -20, 30]);
  });

  it("names, colours and bounds every segment the way Slicer's storage node reads them", () => {
    const fields = keyValuesOf(
      encodeSlicerSegmentation(labels, { sizes: [4, 3, 2], affine: rasAffine, space: "RAS" }, segments),
    );
    expect(fields.get("Segment0_ID")).toBe("Segment_1");
    expect(fields.get("Segment0_Name")).toBe("box 1");
    expect(fields.get("Segment0_LabelValue")).toBe("1");
    expect(fields.get("Segment0_Layer")).toBe("0");
    expect(fields.get("Segment0_Color")).toBe("1 0 0.501961");
    expect(fields.get("Segment0_Extent")).toBe("1 2 0 1 0 0");
    expect(fields.get("Segment1_Extent")).toBe("3 3 2 2 1 1");
    expect(fields.get("Segment2_Extent")).toBe("0 -1 0 -1 0 -1");
    expect(fields.get("Segment2_Name")).toBe("box 3");
    expect(fields.get("Segmentation_MasterRepresentation")).toBe("Binary labelmap");
    expect(fields.get("Segmentation_ContainedRepresentationNames")).toBe("Binary labelmap|");
    expect(fields.has("Segment3_ID")).toBe(false);
  });

  it("switches to uint16 when a label does not fit in a byte", () => {
    const many = new Uint16Array([0, 300, 2, 0]);
    const nrrd = readNrrd(
      encodeSlicerSegmentation(many, { sizes: [2, 2, 1], affine: rasAffine, space: "LPS" }, [
        { label: 300, name: "box 300", colour: [0, 0, 0] },
      ]),
      "t.seg.nrrd",
    );
    expect(nrrd.type).toBe("uint16");
    expect(Array.from(nrrd.data)).toEqual([0, 300, 2, 0]);
    expect(new Map(nrrd.keyValues).get("Segment0_Extent")).toBe("1 1 0 0 0 0");
  });

  it("refuses labels that do not fill the grid", () => {
    expect(() =>
      encodeSlicerSegmentation(new Uint16Array(5), { sizes: [2, 2, 1], affine: rasAffine, space: "LPS" }, []),
    ).toThrow(/5 labels for a 2×2×1 grid/);
  });
});

describe("a 3D Slicer segmentation read back (decodeNrrdStudy)", () => {
  const lps = [
    [1, 0, 0, 0],
    [0, 1, 0, 0],
    [0, 0, 1, 0],
    [0, 0, 0, 1],
  ];

  it("gives the label map daft wrote, segment n = label n + 1", () => {
    const labels = Uint16Array.from({ length: 12 }, (_, i) => i % 3);
    const bytes = encodeSlicerSegmentation(
      labels,
      { sizes: [3, 2, 2], affine: lps, space: "LPS" },
      boxSegments(2),
    );
    const study = decodeNrrdStudy(bytes, "ct.seg.nrrd");
    expect(study.dimension).toBe(3);
    expect(study.channels).toBe(1);
    expect([...study.values]).toEqual([...labels]);
    expect(study.description).toMatch(
      /^3D Slicer segmentation, 2 segment\(s\) in 1 layer\(s\) \(label n = segment n: box 1, box 2\)/,
    );
  });

  it("flattens Slicer's layers (overlapping segments) and renumbers by segment order", () => {
    // 2 layers × 3 voxels: layer 0 holds "liver" (value 1) and "spleen" (value 2); layer 1 holds "tumour" (value 1)
    // inside the liver. Header order liver, tumour, spleen → labels 1, 2, 3; the tumour overwrites the liver.
    const data = Uint8Array.from([1, 0, 1, 1, 2, 0]); // voxel-major: (layer0, layer1) per voxel
    const segment = (n: number, name: string, layer: number, value: number): [string, string][] => [
      [`Segment${n}_ID`, name],
      [`Segment${n}_Name`, name],
      [`Segment${n}_Layer`, String(layer)],
      [`Segment${n}_LabelValue`, String(value)],
    ];
    const file = (keyValues: [string, string][]) =>
      writeNrrd({
        type: "uint8",
        sizes: [2, 3, 1, 1],
        data,
        space: "left-posterior-superior",
        spaceDirections: [null, [1, 0, 0], [0, 1, 0], [0, 0, 1]],
        spaceOrigin: [0, 0, 0],
        kinds: ["list", "domain", "domain", "domain"],
        keyValues,
      });
    const study = decodeNrrdStudy(
      file([...segment(0, "liver", 0, 1), ...segment(1, "tumour", 1, 1), ...segment(2, "spleen", 0, 2)]),
      "abdomen.seg.nrrd",
    );
    expect([study.width, study.height, study.depth, study.channels]).toEqual([3, 1, 1, 1]);
    expect([...study.values]).toEqual([1, 2, 3]);
    expect(study.description).toMatch(
      /3 segment\(s\) in 2 layer\(s\) \(label n = segment n: liver, tumour, spleen\)/,
    );
    expect(() => decodeNrrdStudy(file(segment(0, "liver", 2, 1)), "bad.seg.nrrd")).toThrow(
      "3D Slicer segmentation: segment 0 is in layer 2, but the file has 2",
    );
    expect(() => decodeNrrdStudy(file(segment(0, "liver", 0, 1.5)), "bad.seg.nrrd")).toThrow(
      /Segment0_LabelValue "1.5" is not an integer/,
    );
  });
});
