import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const script = join(import.meta.dirname, "mask_confidence_report.mjs");

describe("scripts/mask_confidence_report.mjs", () => {
  it("joins objects.csv with eval's metrics.csv, ranks both signals and counts the failures each triage finds", () => {
    const dir = mkdtempSync(join(tmpdir(), "daft-confidence-"));
    // 10 US objects: DSC rises with the mask confidence (ρ = 1); the IoU prediction runs the other way (ρ = −1).
    // The two failures (DSC < 0.5) are the least confident, so reviewing 20 % finds both; by IoU, neither.
    const dscs = [0.2, 0.4, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99];
    writeFileSync(
      join(dir, "objects.csv"),
      [
        "case,label,expert,voxels,mask_confidence,predicted_iou",
        ...dscs.map(
          (_, i) => `2DBox_US_a.npz,${i + 1},US,10,${(0.5 + i / 20).toFixed(4)},${(0.9 - i / 20).toFixed(4)}`,
        ),
        "2DBox_US_a.npz,11,box-baseline,10,,", // no model: left out
      ].join("\n"),
    );
    writeFileSync(
      join(dir, "metrics.csv"),
      [
        "case,modality,label,dsc,nsd,gt_voxels,pred_voxels",
        ...dscs.map((d, i) => `2DBox_US_a.npz,US,${i + 1},${d},0.5,10,10`),
        "2DBox_US_a.npz,US,11,0.5,0.5,10,10",
      ].join("\n"),
    );
    const svg = join(dir, "plot.svg");
    const r = spawnSync(
      process.execPath,
      [script, join(dir, "objects.csv"), join(dir, "metrics.csv"), "--review", "0.2", "--svg", svg],
      { encoding: "utf8" },
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toContain("caught reviewing the 20 % least confident");
    expect(lines[2]).toBe("| US | 10 | 1.00 | -1.00 | 2 | 2/2 | 0/2 |");
    expect(lines[3]).toBe("| **all objects** | 10 | 1.00 | -1.00 | 2 | 2/2 | 0/2 |");
    const picture = readFileSync(svg, "utf8");
    expect(picture).toContain("US · 10 · ρ 1.00");
    expect(picture.match(/<circle /g)).toHaveLength(10);
  });
});
