/**
 * The README's main job, end to end on real files: the shipped experts (models/) segment the committed example
 * cases (real nuclei, ultrasound and MR data), `daft eval` scores them, overlays are drawn. Inference is
 * deterministic, so the scores are a regression check of the whole product (engine + models + routing).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expertForModality, parseManifest } from "@daft/core";
import { describe, expect, it } from "vitest";
import { daft, repoRoot, tempDir } from "./helpers.js";

/** The expert the shipped manifest assigns to a modality (a DAFT expert, or general where validation kept it). */
const shippedExpertFor = (modality: string) =>
  expertForModality(
    parseManifest(JSON.parse(readFileSync(join(repoRoot, "models/manifest.json"), "utf8"))),
    modality,
  );

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
    expect(Object.keys(experts)).toHaveLength(6);
    for (const [name, expert] of Object.entries(experts))
      expect(expert, name).toBe(shippedExpertFor(name.split("_")[1]!)); // file-name rule: 2DBox_<Modality>_…

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
