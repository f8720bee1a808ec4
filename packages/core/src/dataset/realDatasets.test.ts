/**
 * Reads a few real cases of every shared dataset (only where ../shared/datasets exists next to the repo, as
 * on CI) to check that every format there decodes and gives sensible objects.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readNifti } from "../io/nifti.js";
import { decodeRaster } from "../io/raster.js";
import { parseDatasetJson, type DatasetSpec } from "./datasetJson.js";
import { importCase, type ImportedCase } from "./importCase.js";

const sharedDatasets = join(import.meta.dirname, "../../../../../shared/datasets");
const available = existsSync(join(sharedDatasets, "kvasir-seg/dataset.json"));

function load(name: string): DatasetSpec {
  return parseDatasetJson(readFileSync(join(sharedDatasets, name, "dataset.json"), "utf8"), name);
}

function bytes(dataset: string, path: string): Uint8Array {
  return new Uint8Array(readFileSync(join(sharedDatasets, dataset, path)));
}

function importFirst(name: string, count: number): ImportedCase[] {
  const dataset = load(name);
  return dataset.cases.slice(0, count).map((entry) =>
    importCase(dataset, entry, {
      imageBytes: bytes(name, entry.image),
      labelBytes: bytes(name, entry.label),
      imageName: `${name}/${entry.image}`,
      labelName: `${name}/${entry.label}`,
    }),
  );
}

describe.skipIf(!available)("shared datasets (../shared/datasets)", () => {
  it("kvasir-seg: RGB JPEG images, one polyp each", () => {
    for (const imported of importFirst("kvasir-seg", 3)) {
      expect(imported.imgsNpz.imgs!.shape).toEqual([imported.height, imported.width, 3]);
      expect(imported.objectNames).toEqual(["polyp"]);
    }
  });

  it("dsb2018-nuclei: RGB PNG images and 16-bit instance PNGs, one object per nucleus", () => {
    const entry = load("dsb2018-nuclei").cases[0]!;
    const label = decodeRaster(bytes("dsb2018-nuclei", entry.label), entry.label);
    expect([label.channels, label.bitDepth]).toEqual([1, 16]);
    const ids = new Set(Array.from(label.data).filter((id) => id > 0));
    const [imported] = importFirst("dsb2018-nuclei", 1);
    expect(imported!.imgsNpz.imgs!.shape[2]).toBe(3);
    expect(imported!.objectNames.length).toBe(ids.size);
    expect(imported!.objectNames[0]).toBe(`nucleus_${Math.min(...ids)}`);
  });

  it("msd-hippocampus: uint8 and float32 NIfTI images (and float32 labels), the union region dropped", () => {
    const dataset = load("msd-hippocampus");
    const datatypes = new Set(
      dataset.cases
        .slice(0, 3)
        .map((entry) => readNifti(bytes("msd-hippocampus", entry.image), entry.image).datatype),
    );
    expect(datatypes).toEqual(new Set(["uint8", "float32"]));
    for (const imported of importFirst("msd-hippocampus", 3)) {
      expect(imported.objectNames).toEqual(["anterior", "posterior"]);
      expect(Array.from(imported.imgsNpz.spacing!.data as Float64Array)).toEqual([1, 1, 1]);
      expect(imported.imgsNpz.imgs!.shape).toEqual([imported.depth, imported.height, imported.width]);
    }
  });

  it("brats2015-flair: float NIfTI 240x240x155, regions covered by the single labels dropped", () => {
    const [imported] = importFirst("brats2015-flair", 1);
    expect(imported!.imgsNpz.imgs!.shape).toEqual([155, 240, 240]);
    expect(imported!.objectNames.every((name) => !["whole_tumor", "tumor_core"].includes(name))).toBe(true);
    expect(imported!.objectNames.length).toBeGreaterThan(0);
  });

  it("drishti-gs-optic: the optic disc region is kept before the cup", () => {
    for (const imported of importFirst("drishti-gs-optic", 3)) {
      expect(imported.objectNames).toEqual(["optic_disc", "optic_cup"]);
      const boxes = Array.from(imported.imgsNpz.boxes!.data as Int32Array);
      // The disc contains the cup.
      expect(
        boxes[0]! <= boxes[4]! && boxes[1]! <= boxes[5]! && boxes[2]! >= boxes[6]! && boxes[3]! >= boxes[7]!,
      ).toBe(true);
    }
  });

  it("the other 2D datasets decode (grey PNG/JPEG images, 8-bit label maps)", () => {
    const objects: Record<string, string[]> = {
      "hc18-fetal-head": ["fetal_head"],
      "cxr-lungs": ["lung"],
      "ph2-dermoscopy": ["lesion"],
      "covid-ct-infection": ["infection"],
    };
    for (const [name, names] of Object.entries(objects)) {
      for (const imported of importFirst(name, 2)) expect(imported.objectNames, name).toEqual(names);
    }
    const [ddsm] = importFirst("ddsm-tissue", 1);
    expect(ddsm!.imgsNpz.imgs!.shape).toEqual([ddsm!.height, ddsm!.width]);
    expect(ddsm!.objectNames.length).toBeGreaterThan(0);
    const covidImage = decodeRaster(
      bytes("covid-ct-infection", load("covid-ct-infection").cases[0]!.image),
      "covid",
    );
    expect(covidImage.channels).toBe(1);
  });
});
