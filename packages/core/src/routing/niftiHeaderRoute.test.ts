import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEFAULT_NIFTI_HEADER_RULES, type NiftiTextField } from "../manifest/niftiHeaderRules.js";
import { parseManifest } from "../manifest/schema.js";
import { modalityFromNiftiHeader, niftiHeaderModality } from "./niftiHeaderRoute.js";
import { routeCase } from "./route.js";
import { testExpertEntry } from "../testing/manifests.js";

const fixture = (path: string) => new URL(`../../../../${path}`, import.meta.url);

interface HeaderCase {
  field: NiftiTextField;
  text: string;
  modality: string | null;
  note?: string;
}

const { cases } = JSON.parse(readFileSync(fixture("fixtures/routing/nifti-header-cases.json"), "utf8")) as {
  cases: HeaderCase[];
};

const expert = testExpertEntry;

/** A manifest without niftiHeaderRules: the default table applies. */
const manifest = parseManifest({
  format: "daft-manifest",
  version: 1,
  experts: [expert("general", ["*"]), expert("MR", ["MR"]), expert("CT", ["CT"])],
  fallback: "general",
  routing: {
    filenameRules: [{ pattern: "(?:^|[^A-Za-z0-9])CT(?:[^A-Za-z0-9]|$)", modality: "CT" }],
    metadataModalities: { PT: "PET" },
  },
});

describe("NIfTI header text → modality (default table, fixtures/routing/nifti-header-cases.json)", () => {
  it("has the tricky cases", () => expect(cases.length).toBeGreaterThanOrEqual(30));
  for (const c of cases) {
    it(`${c.field} '${c.text}' → ${c.modality ?? "no match"}${c.note ? ` (${c.note})` : ""}`, () => {
      expect(
        modalityFromNiftiHeader(DEFAULT_NIFTI_HEADER_RULES, { [c.field]: c.text })?.modality ?? null,
      ).toBe(c.modality);
    });
  }
});

describe("routing by NIfTI header text", () => {
  it("applies the default table to a manifest without niftiHeaderRules", () => {
    expect(manifest.routing.niftiHeaderRules).toEqual(DEFAULT_NIFTI_HEADER_RULES);
  });

  it("the shipped models/manifest.json carries the default table (export writes it)", () => {
    const shipped = JSON.parse(readFileSync(fixture("models/manifest.json"), "utf8"));
    expect(shipped.routing.niftiHeaderRules).toEqual(DEFAULT_NIFTI_HEADER_RULES);
  });

  it("decides as rule 'metadata' with a reason naming the field, before the file name", () => {
    const header = niftiHeaderModality(manifest, { descrip: "T1 MPRAGE", intent_name: "", aux_file: "" });
    expect(header).toEqual({
      modality: "MR",
      source: "NIfTI descrip 'T1 MPRAGE'",
      reason: "NIfTI descrip 'T1 MPRAGE' → MR",
    });
    expect(routeCase(manifest, { fileName: "scan_CT.nii.gz", headerModality: header! })).toEqual({
      expert: "MR",
      modality: "MR",
      rule: "metadata",
      reason: "NIfTI descrip 'T1 MPRAGE' → MR",
    });
  });

  it("falls through to the file name when no rule matches (empty or garbage header)", () => {
    for (const descrip of ["", "\u0001\u007f~~", "FSL5.0"]) {
      const header = niftiHeaderModality(manifest, { descrip, intent_name: "", aux_file: "" });
      expect(header).toBeNull();
      expect(routeCase(manifest, { fileName: "scan_CT.nii.gz" })).toMatchObject({
        expert: "CT",
        rule: "filename",
      });
    }
  });

  it("DICOM Modality wins over header text; explicit --modality wins over both", () => {
    const headerModality = { modality: "MR", reason: "NIfTI descrip 'MR' → MR" };
    expect(routeCase(manifest, { fileName: "x.nii", metadataModality: "CT", headerModality })).toMatchObject({
      expert: "CT",
      rule: "metadata",
    });
    expect(routeCase(manifest, { fileName: "x.nii", modality: "CT", headerModality })).toMatchObject({
      expert: "CT",
      rule: "explicit-modality",
    });
  });

  it("uses the manifest's own table: fields restrict a rule, [] turns header routing off", () => {
    const custom = parseManifest({
      ...manifest,
      routing: {
        ...manifest.routing,
        niftiHeaderRules: [{ pattern: "^brain$", modality: "MR", fields: ["intent_name"] }],
      },
    });
    expect(niftiHeaderModality(custom, { descrip: "brain", intent_name: "", aux_file: "" })).toBeNull();
    expect(niftiHeaderModality(custom, { descrip: "", intent_name: "BRAIN", aux_file: "" })?.reason).toBe(
      "NIfTI intent_name 'BRAIN' → MR",
    );
    const off = parseManifest({ ...manifest, routing: { ...manifest.routing, niftiHeaderRules: [] } });
    expect(niftiHeaderModality(off, { descrip: "CT", intent_name: "", aux_file: "" })).toBeNull();
  });

  it("rejects bad rules with a one-line error", () => {
    const bad = (rule: unknown) => () =>
      parseManifest({ ...manifest, routing: { ...manifest.routing, niftiHeaderRules: [rule] } });
    expect(bad({ pattern: "(", modality: "CT" })).toThrow(
      /NIfTI header rule pattern is not a valid regex: \(/,
    );
    expect(bad({ pattern: "CT", modality: "CT", fields: ["description"] })).toThrow(
      /routing\.niftiHeaderRules\.0\.fields\.0/,
    );
  });
});
