import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseManifest, routeCase } from "@daft/core";

const manifest = parseManifest(
  JSON.parse(readFileSync(join(import.meta.dirname, "../../../../fixtures/manifest/valid.json"), "utf8")),
);

describe("routing by the manifest's file-name rules", () => {
  const table: [string, string | null, string][] = [
    ["2DBox_OCT_0001.npz", "OCT", "general"], // OCT is not CT
    ["3DBox_CT_0007.npz", "CT", "CT_MR_PET"],
    ["3DBox_PET_case12.npz", "PET", "CT_MR_PET"],
    ["3DBox_MR_msd-hippocampus_hippo_0001.npz", "MR", "CT_MR_PET"],
    ["2DBox_Microscopy_dsb2018-nuclei_dsb_0001.npz", "Microscopy", "Microscopy"],
    ["2DBox_Microscope_0001.npz", "Microscopy", "Microscopy"],
    ["2DBox_X-Ray_0001.npz", "XRay", "general"],
    ["2DBox_CXR_0001.npz", "XRay", "general"],
    ["2DBox_US_hc18_0002.npz", "US", "general"],
    ["2DBox_Endoscope_kvasir.npz", "Endoscopy", "general"],
    ["2DBox_Mammo_0003.npz", "Mammography", "general"],
    ["patient_scan_final.npz", null, "general"], // unknown names fall back
    ["2DBox_Dermoscopy_ph2_0001.npz", "Dermoscopy", "general"],
  ];
  for (const [name, modality, expert] of table) {
    it(`${name} → ${modality ?? "fallback"} → ${expert}`, () => {
      const r = routeCase(manifest, { fileName: name });
      expect(r.modality).toBe(modality);
      expect(r.expert).toBe(expert);
      expect(r.rule).toBe(modality ? "filename" : "fallback");
    });
  }
  it("says which part of the name decided, not the rule's pattern", () => {
    expect(routeCase(manifest, { fileName: "2DBox_US_hc18_0002.npz" }).reason).toBe(
      'file name contains "US"',
    );
    expect(routeCase(manifest, { fileName: "2DBox_Microscope_0001.npz" }).reason).toBe(
      'file name contains "Microscope"',
    );
  });
  it("explicit --expert and --modality win over the name; unknown experts are an error", () => {
    expect(routeCase(manifest, { fileName: "2DBox_CT_1.npz", expert: "Microscopy" }).expert).toBe(
      "Microscopy",
    );
    expect(routeCase(manifest, { fileName: "2DBox_CT_1.npz", modality: "microscopy" })).toMatchObject({
      expert: "Microscopy",
      rule: "explicit-modality",
    });
    expect(() => routeCase(manifest, { fileName: "x.npz", expert: "nope" })).toThrow(/unknown expert "nope"/);
  });
  it("maps metadata values (DICOM Modality) through the manifest", () => {
    expect(routeCase(manifest, { fileName: "x.npz", metadataModality: "PT" })).toMatchObject({
      modality: "PET",
      expert: "CT_MR_PET",
      rule: "metadata",
    });
  });
});
