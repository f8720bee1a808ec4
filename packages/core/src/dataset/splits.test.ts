import { describe, expect, it } from "vitest";
import { parseSplitList, splitOfCase, unitHash } from "./splits.js";

describe("unitHash", () => {
  it("equals Python int(sha256(key).hexdigest()[:8], 16) / 2**32", () => {
    expect(unitHash("daft-test/kvasir-seg/kvasir_0001")).toBe(0.2844294086098671);
  });
});

describe("splitOfCase", () => {
  it("matches the splits the Python rule gives (seed 0 and seed 1)", () => {
    // Computed with hashlib by the rule in splits.ts.
    const expected: [string, string, string][] = [
      ["kvasir_0001", "train", "val"],
      ["kvasir_0004", "val", "train"],
      ["kvasir_0005", "train", "train"],
      ["kvasir_0006", "test", "test"],
      ["kvasir_0008", "train", "val"],
    ];
    for (const [caseId, seed0, seed1] of expected) {
      expect(splitOfCase("kvasir-seg", caseId)).toBe(seed0);
      expect(splitOfCase("kvasir-seg", caseId, 1)).toBe(seed1);
    }
  });

  it("gives roughly 20% test, 16% val, 64% train", () => {
    const counts = { train: 0, val: 0, test: 0 };
    for (let i = 0; i < 2000; i++) counts[splitOfCase("ds", `case_${i}`)]++;
    expect(counts.test / 2000).toBeGreaterThan(0.17);
    expect(counts.test / 2000).toBeLessThan(0.23);
    expect(counts.val / 2000).toBeGreaterThan(0.13);
    expect(counts.val / 2000).toBeLessThan(0.19);
  });

  it("never moves a test case when the seed changes", () => {
    for (let i = 0; i < 300; i++) {
      const caseId = `case_${i}`;
      if (splitOfCase("ds", caseId, 0) === "test") expect(splitOfCase("ds", caseId, 7)).toBe("test");
    }
  });
});

describe("parseSplitList", () => {
  it("parses and validates split names", () => {
    expect(parseSplitList("train, test")).toEqual(["train", "test"]);
    expect(() => parseSplitList("train,valid")).toThrow(/unknown split "valid"/);
  });
});
