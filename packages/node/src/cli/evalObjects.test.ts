import { describe, expect, it } from "vitest";
import type { CaseMetrics, DaftInputError } from "@daft/core";
import { joinObjectScores, readObjectsCsv } from "./evalObjects.js";

const header = "case,label,expert,voxels,mask_confidence,predicted_iou";

describe("readObjectsCsv", () => {
  it("reads the fields from the right (a case name may hold commas), keys cases as eval pairs files", () => {
    const text = [
      header,
      "scan, left_0000.nii.gz,2,CT,120,0.8125,0.9",
      "2DBox_US_a.npz,1,box-baseline,400,,", // the box baseline has no confidence
      "",
    ].join("\n");
    expect(readObjectsCsv(text, "objects.csv")).toEqual([
      { key: "scan, left", label: 2, confidence: 0.8125 },
    ]);
  });

  it("reads the name column daft segment writes since session 19 (an object name holds no comma)", () => {
    const text = [`${header},name`, "scan, left_0000.nii.gz,2,CT,120,0.8125,0.9,left lung", ""].join("\n");
    expect(readObjectsCsv(text, "objects.csv")).toEqual([
      { key: "scan, left", label: 2, confidence: 0.8125 },
    ]);
    expect(() => readObjectsCsv(`${header},name\na.npz,1,CT,1,0.5,0.5\n`, "o.csv")).toThrow(
      "line 2: 6 fields, at least 7 expected",
    );
  });

  it("names the file and the line of a row it cannot read", () => {
    const lineOf = (text: string) => {
      try {
        readObjectsCsv(text, "o.csv");
      } catch (e) {
        return (e as DaftInputError).oneLine();
      }
      return "read";
    };
    expect(lineOf(`${header}\na.npz,0,CT,1,0.5,0.5\n`)).toBe('o.csv: line 2: label "0" is not a box number');
    expect(lineOf(`${header}\na.npz,1,CT\n`)).toBe("o.csv: line 2: 3 fields, at least 6 expected");
    expect(lineOf("case,label\n")).toBe(`o.csv: is not daft segment's objects.csv (header "case,label")`);
  });
});

describe("joinObjectScores", () => {
  const metrics = (dscs: number[]): CaseMetrics => ({
    labels: dscs.map((dsc, i) => ({ label: i + 1, dsc, nsd: 0, gtVoxels: 1, predVoxels: 1 })),
    dsc: 0,
    nsd: 0,
    nsdComputed: false,
  });

  it("pairs each box with its case's modality and its label's DSC; unscored boxes and NaN DSCs drop out", () => {
    const joined = joinObjectScores(
      [
        { key: "a", label: 1, confidence: 0.9 },
        { key: "a", label: 2, confidence: 0.4 },
        { key: "a", label: 3, confidence: 0.7 }, // no such label in the ground truth
        { key: "b", label: 1, confidence: 0.2 }, // DSC NaN: absent from both
        { key: "z", label: 1, confidence: 0.5 }, // case not scored
      ],
      [
        { key: "a", modality: "Microscopy", metrics: metrics([0.95, 0.3]) },
        { key: "b", modality: "US", metrics: metrics([NaN]) },
      ],
    );
    expect(joined).toEqual([
      { modality: "Microscopy", dsc: 0.95, confidence: 0.9 },
      { modality: "Microscopy", dsc: 0.3, confidence: 0.4 },
    ]);
  });
});
