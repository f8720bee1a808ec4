import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { imageKeyOf, imagesFolderFor, worstCases } from "./evalPictures.js";

describe("imageKeyOf", () => {
  it("pairs images with label maps as daft eval pairs predictions: suffix and nnU-Net channel dropped", () => {
    expect(imageKeyOf("ct_0000.nii.gz")).toBe("ct");
    expect(imageKeyOf("ct.nrrd")).toBe("ct");
    expect(imageKeyOf("photo.jpg")).toBe("photo");
    expect(imageKeyOf("2DBox_US_hc18_0047.npz")).toBe("2DBox_US_hc18_0047"); // challenge names keep digits
  });
});

describe("imagesFolderFor", () => {
  it("takes --images, else imgs/ beside a gts/ folder", () => {
    const split = mkdtempSync(join(tmpdir(), "daft-pictures-"));
    mkdirSync(join(split, "gts"));
    expect(imagesFolderFor(join(split, "gts"), undefined)).toBeUndefined();
    mkdirSync(join(split, "imgs"));
    expect(imagesFolderFor(join(split, "gts"), undefined)).toBe(join(split, "imgs"));
    expect(imagesFolderFor(join(split, "gts"), "/mine")).toBe("/mine");
    expect(imagesFolderFor(split, undefined)).toBeUndefined();
  });
});

describe("worstCases", () => {
  it("lowest DSC first, unscorable cases left out, ties by name", () => {
    const c = (name: string, dsc: number) => ({ name, key: name, modality: "US", dsc, nsd: 0 });
    const cases = [c("a", 0.9), c("b", 0.2), c("c", Number.NaN), c("d", 0.5), c("e", 0.2)];
    expect(worstCases(cases, 3).map((x) => x.name)).toEqual(["b", "e", "d"]);
    expect(worstCases(cases, 0)).toEqual([]);
  });
});
