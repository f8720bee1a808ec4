import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseManifest, writeNpz } from "@daft/core";
import { boxDecoder, identityEncoder, writeOracleModelDir } from "../packages/node/src/testing/index.js";

const script = join(import.meta.dirname, "calibrate_mask_offsets.mjs");
const repoRoot = join(import.meta.dirname, "..");
const NAME = "2DBox_US_synthetic_0001";
const SIZE = 256; // the model frame itself: scale 1, so the box oracle's logit is the distance inside the box

/**
 * A one-case validation split whose ground truth is the prompt box grown by `grow` px a side. The box oracle's
 * logit is its distance inside the box (+½), so the mask grows 1 px a side per unit of offset: the right
 * offset is `grow`.
 */
function writeCases(dir: string, grow: number) {
  const [x0, y0, x1, y1] = [100, 90, 139, 149];
  mkdirSync(join(dir, "val", "imgs"), { recursive: true });
  mkdirSync(join(dir, "val", "gts"), { recursive: true });
  const image = new Uint8Array(SIZE * SIZE).map((_, i) => i % 251);
  const gts = new Uint8Array(SIZE * SIZE);
  for (let y = y0 - grow; y <= y1 + grow; y++)
    for (let x = x0 - grow; x <= x1 + grow; x++) gts[y * SIZE + x] = 1;
  const imgs = { data: image, shape: [SIZE, SIZE], dtype: "uint8" };
  const boxes = { data: Float64Array.from([x0, y0, x1, y1]), shape: [1, 4], dtype: "float64" };
  writeFileSync(join(dir, "val", "imgs", `${NAME}.npz`), writeNpz({ imgs, boxes }, { compress: true }));
  writeFileSync(
    join(dir, "val", "gts", `${NAME}.npz`),
    writeNpz({ gts: { data: gts, shape: [SIZE, SIZE], dtype: "uint8" }, boxes }, { compress: true }),
  );
  writeFileSync(
    join(dir, "cases.csv"),
    "name,dataset,modality,dimension,case,split,objects,object_names,height,width,depth\n" +
      `${NAME},synthetic,US,2,0001,val,1,object,${SIZE},${SIZE},1\n`,
  );
}

describe("calibrate_mask_offsets", () => {
  it("finds the offset that makes the oracle's masks match the ground truth, and writes it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "daft-calibrate-"));
    const models = join(dir, "models");
    await writeOracleModelDir(models, { name: "general", encoder: identityEncoder(), decoder: boxDecoder() });
    writeCases(join(dir, "cases"), 2);
    const r = spawnSync(
      "node",
      [script, "--models", models, "--cases", join(dir, "cases"), "--experts", "general"].concat([
        "--offsets",
        "-1,0,1,2,3",
        "--out",
        join(dir, "out"),
        "--write",
      ]),
      { cwd: repoRoot, encoding: "utf8" },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/calibrate 5\/5 general offset 3/);
    const report = readFileSync(join(dir, "out", "report.md"), "utf8");
    expect(report).toMatch(/\| general \| US \| 1 \| 2 \* \| 1\.0000 \| 1\.0000 \|/);
    expect(report).toMatch(/\| general \| US \| 1 \| 0 \| 0\.9\d{3} \|/);
    const manifest = parseManifest(JSON.parse(readFileSync(join(models, "manifest.json"), "utf8")));
    expect(manifest.experts[0]!.maskLogitOffset).toBe(2);
  }, 60_000);

  it("leaves the fallback alone unless named, and refuses an expert that serves no case", async () => {
    const dir = mkdtempSync(join(tmpdir(), "daft-calibrate-"));
    const models = join(dir, "models");
    await writeOracleModelDir(models, { name: "general", encoder: identityEncoder(), decoder: boxDecoder() });
    writeCases(join(dir, "cases"), 2);
    const run = (...args: string[]) =>
      spawnSync(
        "node",
        [script, "--models", models, "--cases", join(dir, "cases"), "--out", join(dir, "out"), ...args],
        {
          cwd: repoRoot,
          encoding: "utf8",
        },
      );
    const quiet = run("--write");
    expect(quiet.status, quiet.stderr).toBe(0);
    expect(quiet.stdout).not.toMatch(/\| general \|/); // the general expert serves US here, but only as the fallback
    expect(
      JSON.parse(readFileSync(join(models, "manifest.json"), "utf8")).experts[0].maskLogitOffset,
    ).toBeUndefined();
    const refused = run("--experts", "CT");
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/--experts: CT serves no modality with val cases/);
  }, 60_000);
});
