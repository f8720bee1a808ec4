import { describe, expect, it } from "vitest";
import { formatCasesCsv, mergeCaseRows, parseCasesCsv, type CaseRow } from "./casesCsv.js";

function row(dataset: string, caseId: string, extra: Partial<CaseRow> = {}): CaseRow {
  return {
    name: `2DBox_CT_${dataset}_${caseId}`,
    dataset,
    modality: "CT",
    dimension: "2",
    case: caseId,
    split: "train",
    objects: "2",
    object_names: "disc;cup",
    height: "30",
    width: "40",
    depth: "",
    ...extra,
  };
}

describe("cases.csv", () => {
  it("round-trips rows, quoting fields that need it", () => {
    const rows = [row("a", "c1"), row("a", "c2", { object_names: 'odd, "name"' })];
    const text = formatCasesCsv(rows);
    expect(text.split("\n")[0]).toBe(
      "name,dataset,modality,dimension,case,split,objects,object_names,height,width,depth",
    );
    expect(text).toContain('"odd, ""name"""');
    expect(parseCasesCsv(text)).toEqual(rows);
    expect(parseCasesCsv(text.replace(/\n/g, "\r\n"))).toEqual(rows);
  });

  it("rejects files that are not ours", () => {
    expect(() => parseCasesCsv("a,b\n1,2\n")).toThrow(/unexpected header/);
    expect(() => parseCasesCsv(`${formatCasesCsv([])}x,y\n`)).toThrow(/row 2 has 2 fields, expected 11/);
  });

  it("merges: this run's rows replace same-named ones, earlier rows stay if kept, sorted by dataset then case", () => {
    const earlier = [row("b", "c1", { split: "val" }), row("a", "c9"), row("a", "gone")];
    const fresh = [row("b", "c1", { split: "test" }), row("a", "c2")];
    const merged = mergeCaseRows(earlier, fresh, (r) => r.case !== "gone");
    expect(merged.map((r) => `${r.dataset}/${r.case}/${r.split}`)).toEqual([
      "a/c2/train",
      "a/c9/train",
      "b/c1/test",
    ]);
  });
});
