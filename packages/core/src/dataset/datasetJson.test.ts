import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { inputErrorLine } from "../testing/inputErrors.js";
import { caseIdOf, challengeCaseName, parseDatasetJson, planObjects } from "./datasetJson.js";

const FIXTURES = new URL("../../../../fixtures/dataset-mini/", import.meta.url);

function parse(doc: unknown, source = "dataset.json") {
  return parseDatasetJson(JSON.stringify(doc), source);
}

const MINIMAL = {
  name: "ds",
  modality: "CT",
  dimension: 2,
  labels: { background: 0, lesion: 1 },
  cases: [{ image: "images/a_0001.png", label: "labels/a_0001.png" }],
};

describe("parseDatasetJson", () => {
  it("reads the fixture datasets", () => {
    const optic = parseDatasetJson(
      readFileSync(new URL("optic-mini/dataset.json", FIXTURES), "utf8"),
      "optic",
    );
    expect([optic.name, optic.modality, optic.dimension, optic.cases.length]).toEqual([
      "optic-mini",
      "Fundus",
      2,
      4,
    ]);
    const hippo = parseDatasetJson(
      readFileSync(new URL("hippo-mini/dataset.json", FIXTURES), "utf8"),
      "hippo",
    );
    expect(hippo.cases[0]?.spacing).toEqual([0.8, 0.7, 2.5]);
    const nuclei = parseDatasetJson(
      readFileSync(new URL("nuclei-mini/dataset.json", FIXTURES), "utf8"),
      "nuclei",
    );
    expect(nuclei.objectPlan).toEqual({ kind: "instance", instanceClass: "nucleus" });
  });

  it("reports schema problems on one line with the field path and the file", () => {
    expect(inputErrorLine(() => parse({ ...MINIMAL, dimension: 4 }, "x/dataset.json"))).toMatch(
      /^x\/dataset\.json: dimension: /,
    );
    expect(inputErrorLine(() => parse({ ...MINIMAL, name: "has space" }))).toMatch(
      /^dataset\.json: name: must be letters/,
    );
    expect(inputErrorLine(() => parse({ ...MINIMAL, modality: "CT_MR" }))).toMatch(
      /modality: must not contain '_'/,
    );
    expect(inputErrorLine(() => parse({ ...MINIMAL, cases: [] }))).toMatch(/cases: /);
    expect(inputErrorLine(() => parse({ ...MINIMAL, cases: [{ image: "a.png" }] }))).toMatch(
      /cases\.0\.label: /,
    );
    expect(inputErrorLine(() => parse({ ...MINIMAL, labels: { background: 0, x: 1.5 } }))).toMatch(
      /labels\.x: /,
    );
    expect(inputErrorLine(() => parseDatasetJson("{not json", "bad.json"))).toMatch(
      /^bad\.json: invalid JSON/,
    );
  });
});

describe("planObjects", () => {
  it("puts regions first (most ids first, stable), then single labels in dataset.json order", () => {
    const brats = planObjects({
      labels: {
        background: 0,
        necrosis: 1,
        edema: 2,
        non_enhancing_tumor: 3,
        enhancing_tumor: 4,
        tumor_core: [1, 3, 4],
        whole_tumor: [1, 2, 3, 4],
        pair_a: [1, 2],
        pair_b: [3, 4],
      },
    });
    expect(brats.kind === "semantic" && brats.definitions.map((d) => d.name)).toEqual([
      "whole_tumor",
      "tumor_core",
      "pair_a",
      "pair_b",
      "necrosis",
      "edema",
      "non_enhancing_tumor",
      "enhancing_tumor",
    ]);
    const drishti = planObjects({ labels: { background: 0, optic_disc: [1, 2], optic_cup: 2 } });
    expect(drishti).toEqual({
      kind: "semantic",
      definitions: [
        { name: "optic_disc", labelIds: [1, 2] },
        { name: "optic_cup", labelIds: [2] },
      ],
    });
  });

  it("uses the single foreground entry as the instance class", () => {
    expect(planObjects({ labels: { background: 0, nucleus: "ids 1..N" }, instance_labels: true })).toEqual({
      kind: "instance",
      instanceClass: "nucleus",
    });
  });

  it("rejects label tables it cannot turn into objects", () => {
    expect(() => planObjects({ labels: { background: 0, cell: "ids" } })).toThrow(/instance_labels: true/);
    expect(() => planObjects({ labels: { background: 0, a: 1, b: 2 }, instance_labels: true })).toThrow(
      /exactly one foreground entry, got a, b/,
    );
    expect(() => planObjects({ labels: { background: 0, all: [0, 1] } })).toThrow(/background id 0/);
    expect(() => planObjects({ labels: { background: 0 } })).toThrow(/no foreground label/);
  });
});

describe("names", () => {
  it("takes the case id from the image file stem", () => {
    expect(caseIdOf("images/kvasir_0001.jpg")).toBe("kvasir_0001");
    expect(caseIdOf("images/hippo_0001.nii.gz")).toBe("hippo_0001");
    expect(caseIdOf("imagesTr\\case.v2.png")).toBe("case.v2");
    expect(caseIdOf("plain")).toBe("plain");
  });

  it("builds challenge case names", () => {
    expect(
      challengeCaseName({ name: "kvasir-seg", modality: "Endoscopy", dimension: 2 }, "kvasir_0001"),
    ).toBe("2DBox_Endoscopy_kvasir-seg_kvasir_0001");
    expect(challengeCaseName({ name: "msd-hippocampus", modality: "MR", dimension: 3 }, "hippo_0001")).toBe(
      "3DBox_MR_msd-hippocampus_hippo_0001",
    );
  });
});
