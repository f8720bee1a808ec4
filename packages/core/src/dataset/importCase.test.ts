import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { writeMetaImage } from "../io/metaImage.js";
import { readNifti } from "../io/nifti.js";
import { writeNrrd } from "../io/nrrd.js";
import { decodeRaster, encodePng } from "../io/raster.js";
import { inputErrorLine } from "../testing/inputErrors.js";
import { parseDatasetJson, type DatasetSpec } from "./datasetJson.js";
import { importCase, type CaseFiles } from "./importCase.js";

const FIXTURES = new URL("../../../../fixtures/dataset-mini/", import.meta.url);

interface ExpectedCase {
  name: string;
  split: string;
  shape: number[];
  objects: string[];
  boxes: number[][];
  spacing?: number[];
}
const expected = JSON.parse(readFileSync(new URL("expected.json", FIXTURES), "utf8")) as {
  datasets: Record<string, Record<string, ExpectedCase>>;
};

function loadDataset(folder: string): DatasetSpec {
  return parseDatasetJson(readFileSync(new URL(`${folder}/dataset.json`, FIXTURES), "utf8"), folder);
}

function caseFiles(folder: string, image: string, label: string): CaseFiles {
  return {
    imageBytes: new Uint8Array(readFileSync(new URL(`${folder}/${image}`, FIXTURES))),
    labelBytes: new Uint8Array(readFileSync(new URL(`${folder}/${label}`, FIXTURES))),
    imageName: `${folder}/${image}`,
    labelName: `${folder}/${label}`,
  };
}

describe("importCase on fixtures/dataset-mini (expected.json is shared with the Python package)", () => {
  for (const [folder, cases] of Object.entries(expected.datasets)) {
    it(`${folder}: names, splits, shapes, objects, boxes, gts and spacing`, () => {
      const dataset = loadDataset(folder);
      expect(dataset.cases.length).toBe(Object.keys(cases).length);
      for (const entry of dataset.cases) {
        const imported = importCase(dataset, entry, caseFiles(folder, entry.image, entry.label));
        const want = cases[imported.caseId]!;
        expect(want, imported.caseId).toBeDefined();
        expect(imported.name).toBe(want.name);
        expect(imported.split).toBe(want.split);
        expect(imported.objectNames).toEqual(want.objects);
        const { imgs, boxes } = imported.imgsNpz;
        expect(imgs!.shape).toEqual(want.shape);
        expect(imgs!.dtype).toBe("uint8");
        expect(boxes!.shape).toEqual([want.boxes.length, want.boxes[0]!.length]);
        expect(Array.from(boxes!.data as Int32Array)).toEqual(want.boxes.flat());
        const gts = imported.gtsNpz.gts!;
        expect(gts.dtype).toBe("uint16");
        const spatial = want.spacing ? want.shape : want.shape.slice(0, 2);
        expect(gts.shape).toEqual(spatial);
        // Both box corners of every object lie inside that object (rectangles in the fixture), and the
        // last object is painted last, so its corners carry its own index.
        const last = want.boxes.length - 1;
        const box = want.boxes[last]!;
        const index = (corner: number[]) =>
          spatial.length === 3
            ? (corner[2]! * spatial[1]! + corner[1]!) * spatial[2]! + corner[0]!
            : corner[1]! * spatial[1]! + corner[0]!;
        const half = box.length / 2;
        expect(gts.data[index(box.slice(0, half))]).toBe(last + 1);
        expect(gts.data[index(box.slice(half))]).toBe(last + 1);
        expect(Math.max(...Array.from(gts.data as Uint16Array))).toBe(want.boxes.length);
        if (want.spacing) {
          expect(Array.from(imported.imgsNpz.spacing!.data as Float64Array)).toEqual(want.spacing);
          expect(Array.from(imported.gtsNpz.spacing!.data as Float64Array)).toEqual(want.spacing);
          expect([imported.depth, imported.height, imported.width]).toEqual(want.shape);
        } else {
          expect(imported.imgsNpz.spacing).toBeUndefined();
          expect([imported.height, imported.width]).toEqual(want.shape.slice(0, 2));
        }
      }
    });
  }

  it("scales 16-bit and 3D float images to the full uint8 range", () => {
    const optic = loadDataset("optic-mini");
    const sixteen = optic.cases.find((entry) => entry.image.includes("optic_0007"))!;
    const imgs = importCase(optic, sixteen, caseFiles("optic-mini", sixteen.image, sixteen.label)).imgsNpz
      .imgs!;
    const values = Array.from(imgs.data as Uint8Array);
    expect(Math.min(...values)).toBe(0);
    expect(Math.max(...values)).toBe(255);
    const hippo = loadDataset("hippo-mini");
    const entry = hippo.cases[0]!;
    const volume = Array.from(
      importCase(hippo, entry, caseFiles("hippo-mini", entry.image, entry.label)).imgsNpz.imgs!
        .data as Uint8Array,
    );
    expect(Math.min(...volume)).toBe(0);
    expect(Math.max(...volume)).toBe(255);
  });

  it("imports the same case identically from NIfTI, NRRD and MetaImage files (3D) and from PNG, NRRD and .mha (2D)", () => {
    const hippo = loadDataset("hippo-mini");
    const entry = hippo.cases[0]!;
    const files = caseFiles("hippo-mini", entry.image, entry.label);
    const asNrrd = (bytes: Uint8Array, name: string) => {
      const nifti = readNifti(bytes, name);
      return writeNrrd({
        type: "float",
        sizes: nifti.dims,
        data: Float32Array.from(nifti.data),
        spacings: nifti.pixdim.slice(0, 3).map(Math.abs),
      });
    };
    const asMha = (bytes: Uint8Array, name: string) => {
      const nifti = readNifti(bytes, name);
      return writeMetaImage({
        sizes: nifti.dims,
        data: Float32Array.from(nifti.data),
        spacing: nifti.pixdim.slice(0, 3).map(Math.abs),
      });
    };
    const expected = importCase(hippo, entry, files);
    for (const convert of [asNrrd, asMha]) {
      const converted = importCase(hippo, entry, {
        ...files,
        imageBytes: convert(files.imageBytes, files.imageName),
        labelBytes: convert(files.labelBytes, files.labelName),
      });
      expect(converted).toEqual(expected);
    }

    const optic = loadDataset("optic-mini");
    const plane = optic.cases[0]!;
    const planeFiles = caseFiles("optic-mini", plane.image, plane.label);
    const grey = (bytes: Uint8Array, name: string) => {
      const raster = decodeRaster(bytes, name, { paletteAsIndices: true });
      expect(raster.channels).toBe(1);
      return raster;
    };
    const label = grey(planeFiles.labelBytes, planeFiles.labelName);
    const expected2d = importCase(optic, plane, planeFiles);
    for (const labelBytes of [
      writeNrrd({ type: "uint8", sizes: [label.width, label.height], data: Uint8Array.from(label.data) }),
      writeMetaImage({ sizes: [label.width, label.height], data: Uint8Array.from(label.data) }),
    ]) {
      expect(importCase(optic, plane, { ...planeFiles, labelBytes })).toEqual(expected2d);
    }
  });

  it("reports mismatched sizes, wrong file kinds and empty labels as one line naming the file", () => {
    const optic = loadDataset("optic-mini");
    const hippo = loadDataset("hippo-mini");
    const entry = optic.cases[0]!;
    const attempts: [() => unknown, RegExp][] = [
      [
        () =>
          importCase(
            optic,
            entry,
            caseFiles("optic-mini", entry.image, "../nuclei-mini/labels/nuclei_0001.png"),
          ),
        /^optic-mini\/\.\.\/nuclei-mini\/labels\/nuclei_0001\.png: label is 48x36 but image optic-mini\/images\/optic_0001\.png is 40x30$/,
      ],
      [
        () =>
          importCase(optic, entry, {
            ...caseFiles("optic-mini", entry.image, entry.label),
            labelBytes: encodePng(new Uint8Array(1200), 40, 30),
          }),
        /^optic-mini\/labels\/optic_0001\.png: label map has no foreground object$/,
      ],
      [
        () =>
          importCase(
            hippo,
            hippo.cases[0]!,
            caseFiles("hippo-mini", "../optic-mini/images/optic_0001.png", hippo.cases[0]!.label),
          ),
        /: 3D datasets need NIfTI/,
      ],
      [
        () =>
          importCase(
            hippo,
            hippo.cases[0]!,
            caseFiles("hippo-mini", hippo.cases[0]!.image, "../formats/uint16.nii"),
          ),
        /^hippo-mini\/\.\.\/formats\/uint16\.nii: label volume is 4x3x2 but image .* is 20x24x10 \(x, y, z\)$/,
      ],
      [
        () =>
          importCase(optic, entry, {
            ...caseFiles("optic-mini", entry.image, entry.label),
            imageBytes: new Uint8Array(10),
          }),
        /^optic-mini\/images\/optic_0001\.png: not a PNG, JPEG, TIFF or BMP image/,
      ],
    ];
    for (const [attempt, problem] of attempts) {
      expect(inputErrorLine(attempt)).toMatch(problem);
    }
  });
});
