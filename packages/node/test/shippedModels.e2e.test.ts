/**
 * The README's main job, end to end on real files: the shipped experts (models/) segment the committed example
 * cases (real nuclei, ultrasound and MR data), `daft eval` scores them, overlays are drawn. Inference is
 * deterministic, so the scores are a regression check of the whole product (engine + models + routing).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { daft, repoRoot, tempDir } from "./helpers.js";

describe("shipped experts on the example cases", () => {
  it("segments, routes each case to its expert, scores well above chance and draws overlays", () => {
    const out = tempDir("daft-demo-");
    const seg = daft([
      "segment",
      join(repoRoot, "examples/cases/imgs"),
      "-o",
      join(out, "segs"),
      "--overlays",
      join(out, "overlays"),
      "--quiet",
    ]);
    expect(seg.stderr).toBe("");
    expect(seg.code).toBe(0);
    const timings = readFileSync(join(out, "segs", "timings.csv"), "utf8")
      .trim()
      .split("\n")
      .slice(1);
    const experts = Object.fromEntries(timings.map((row) => [row.split(",")[0]!, row.split(",")[2]!]));
    expect(experts["2DBox_US_hc18-fetal-head_hc18_0047.npz"]).toBe("US"); // a DAFT expert
    expect(experts["3DBox_MR_msd-hippocampus_hippo_0021.npz"]).toBe("general"); // validation kept general for MR

    const ev = daft([
      "eval",
      "--pred",
      join(out, "segs"),
      "--gt",
      join(repoRoot, "examples/cases/gts"),
      "-o",
      join(out, "eval"),
    ]);
    expect(ev.code).toBe(0);
    const rows = readFileSync(join(out, "eval", "cases.csv"), "utf8")
      .trim()
      .split("\n")
      .slice(1);
    expect(rows).toHaveLength(6);
    const dsc = rows.map((r) => Number(r.split(",")[3]));
    for (const d of dsc) expect(d).toBeGreaterThan(0.5);
    expect(dsc.reduce((a, b) => a + b, 0) / dsc.length).toBeGreaterThan(0.75);
    for (const row of rows) {
      expect(existsSync(join(out, "overlays", row.split(",")[0]!.replace(/\.npz$/, ".png")))).toBe(true);
    }
  });
});
