import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const script = join(import.meta.dirname, "seeds_table.mjs");

type Scores = Record<string, [dsc: number, nsd: number]>;

/** Writes OUT/<run>/<policy>/eval/summary.json in the shape `daft eval` writes (the fields the table reads). */
function writeSummary(out: string, run: string, policy: string, scores: Scores, cases = 10) {
  const modalities = Object.entries(scores).map(([modality, [meanDsc, meanNsd]]) => ({
    modality,
    cases,
    meanDsc,
    meanNsd,
    nanDscCases: 0,
  }));
  const mean = (k: "meanDsc" | "meanNsd") => modalities.reduce((s, m) => s + m[k], 0) / modalities.length;
  const dir = join(out, run, policy, "eval");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "summary.json"),
    JSON.stringify({
      summary: {
        modalities,
        meanOverModalities: { meanDsc: mean("meanDsc"), meanNsd: mean("meanNsd") },
        overall: { cases: cases * modalities.length },
      },
    }),
  );
}

function table(out: string, runs: string[]) {
  const r = spawnSync(process.execPath, [script, out, "general", "daft", ...runs], {
    encoding: "utf8",
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("scripts/seeds_table.mjs", () => {
  it("gives mean ± sample sd per policy, the paired difference and the seeds DAFT won", () => {
    const out = mkdtempSync(join(tmpdir(), "daft-seeds-"));
    const general = [0.6, 0.7, 0.8];
    const daft = [0.7, 0.7, 0.9];
    ["s0", "s1", "s2"].forEach((run, i) => {
      writeSummary(out, run, "general", { CT: [general[i]!, 0.2], US: [0.9, 0.3] });
      writeSummary(out, run, "daft", { CT: [daft[i]!, 0.25], US: [0.8, 0.3] });
    });
    const r = table(out, ["s0", "s1", "s2"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const [dscTable, nsdTable] = r.stdout.split("NSD:");
    // CT: general 0.7 ± 0.1; daft 0.7667 ± 0.1155; differences 0.1, 0, 0.1 → +0.067 ± 0.058, won in 2 of 3.
    expect(dscTable).toContain("| CT | 10 | 0.700 ± 0.100 | 0.767 ± 0.115 | +0.067 ± 0.058 | 2/3 |");
    expect(dscTable).toContain("| US | 10 | 0.900 ± 0.000 | 0.800 ± 0.000 | −0.100 ± 0.000 | 0/3 |");
    // Mean over modalities per seed: general 0.75, 0.8, 0.85; daft 0.75, 0.75, 0.85.
    expect(dscTable).toContain(
      "| **mean over modalities** | 20 | 0.800 ± 0.050 | 0.783 ± 0.058 | −0.017 ± 0.029 | 0/3 |",
    );
    expect(nsdTable).toContain("| CT | 10 | 0.200 ± 0.000 | 0.250 ± 0.000 | +0.050 ± 0.000 | 3/3 |");
  });

  it("refuses seeds scored on different test cases, naming the run", () => {
    const out = mkdtempSync(join(tmpdir(), "daft-seeds-"));
    for (const policy of ["general", "daft"]) {
      writeSummary(out, "s0", policy, { CT: [0.7, 0.2] }, 10);
      writeSummary(out, "s1", policy, { CT: [0.7, 0.2] }, 9);
    }
    const r = table(out, ["s0", "s1"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe("s1/general: CT has 9 cases, not 10");
  });

  it("names the missing summary file", () => {
    const out = mkdtempSync(join(tmpdir(), "daft-seeds-"));
    writeSummary(out, "s0", "general", { CT: [0.7, 0.2] });
    const r = table(out, ["s0", "s1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(join(out, "s1", "general", "eval", "summary.json"));
    expect(r.stderr.split("\n").filter(Boolean)).toHaveLength(1);
  });
});
