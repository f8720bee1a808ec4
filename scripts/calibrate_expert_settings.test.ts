import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseManifest, writeNpz } from "@daft/core";
import { boxDecoder, identityEncoder, writeOracleModelDir } from "../packages/node/src/testing/index.js";

const script = join(import.meta.dirname, "calibrate_mask_offsets.mjs"); // the offset setting's wrapper
const settingsScript = join(import.meta.dirname, "calibrate_expert_settings.mjs");
const repoRoot = join(import.meta.dirname, "..");
const NAME = "2DBox_US_synthetic_0001";
const SIZE = 256; // the model frame itself: scale 1, so the box oracle's logit is the distance inside the box

/**
 * A one-case validation split whose ground truth is the prompt box grown by `grow` px a side (shrunk when
 * negative: a box prompt bounds its object, and the engine clips masks to their boxes). The box oracle's logit
 * is its distance inside the box (+½), so the mask grows 1 px a side per unit of offset: the right offset is
 * `grow`. With `stepImage` the image is bright on the ground truth and dark around it (an edge for the edge
 * refinement to find), else a texture without edges at the object.
 */
function writeCases(dir: string, grow: number, stepImage = false) {
  const [x0, y0, x1, y1] = [100, 90, 139, 149];
  mkdirSync(join(dir, "val", "imgs"), { recursive: true });
  mkdirSync(join(dir, "val", "gts"), { recursive: true });
  const gts = new Uint8Array(SIZE * SIZE);
  for (let y = y0 - grow; y <= y1 + grow; y++)
    for (let x = x0 - grow; x <= x1 + grow; x++) gts[y * SIZE + x] = 1;
  const image = new Uint8Array(SIZE * SIZE).map((_, i) => (stepImage ? 50 + 150 * gts[i]! : i % 251));
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

/**
 * A models folder with the box oracle as the general expert and a one-case validation split (writeCases), and a
 * runner of a calibration script on them.
 */
async function oracleSetup(grow: number, stepImage = false) {
  const dir = mkdtempSync(join(tmpdir(), "daft-calibrate-"));
  const models = join(dir, "models");
  await writeOracleModelDir(models, { name: "general", encoder: identityEncoder(), decoder: boxDecoder() });
  writeCases(join(dir, "cases"), grow, stepImage);
  const run = (scriptPath: string, ...args: string[]) =>
    spawnSync(
      "node",
      [scriptPath, "--models", models, "--cases", join(dir, "cases"), "--out", join(dir, "out"), ...args],
      { cwd: repoRoot, encoding: "utf8" },
    );
  const report = () => readFileSync(join(dir, "out", "report.md"), "utf8");
  const manifest = () => parseManifest(JSON.parse(readFileSync(join(models, "manifest.json"), "utf8")));
  return { run, report, manifest };
}

describe("calibrate_expert_settings", () => {
  it("finds the offset that makes the oracle's masks match the ground truth, and writes it", async () => {
    const { run, report, manifest } = await oracleSetup(-2);
    const r = run(script, "--experts", "general", "--offsets", "-3,-2,-1,0,1", "--write");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/calibrate 5\/5 general offset 1/);
    expect(report()).toMatch(/\| general \| US \| 1 \| -2 \* \| 1\.0000 \| 1\.0000 \|/);
    expect(report()).toMatch(/\| general \| US \| 1 \| 0 \| 0\.9\d{3} \|/);
    expect(manifest().experts[0]!.maskLogitOffset).toBe(-2);
  }, 60_000);

  it("leaves the fallback alone unless named, and refuses an expert that serves no case", async () => {
    const { run, manifest } = await oracleSetup(-2);
    const quiet = run(script, "--write");
    expect(quiet.status, quiet.stderr).toBe(0);
    expect(quiet.stdout).not.toMatch(/\| general \|/); // the general expert serves US here, but only as the fallback
    expect(manifest().experts[0]!.maskLogitOffset).toBeUndefined();
    const refused = run(script, "--experts", "CT");
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/--experts: CT serves no modality with val cases/);
  }, 60_000);

  it("edges: the guided filter that puts the mask on the image's edge wins, and is written", async () => {
    // The ground truth is the box shrunk by 1 px, bright on dark: the bilinear mask (the box) scores DSC 0.96;
    // a radius of 3 moves its edge onto the image's, DSC 1.
    const { run, report, manifest } = await oracleSetup(-1, true);
    const r = run(
      settingsScript,
      "--setting",
      "edges",
      "--experts",
      "general",
      "--values",
      "off 3,0.001",
      "--write",
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/calibrate 2\/2 general edges 3,0\.001/);
    expect(report()).toMatch(/^edgeRefinement on the val split/);
    expect(report()).toMatch(/\| general \| US \| 1 \| off \| 0\.9[0-8]\d{2} \|/);
    expect(report()).toMatch(/\| general \| US \| 1 \| 3,0\.001 \* \| 1\.0000 \|/);
    expect(manifest().experts[0]!.edgeRefinement).toEqual({ radius: 3, eps: 0.001 });
  }, 60_000);

  it("edges: a value that is neither off nor R,EPS is refused before anything runs", () => {
    const r = spawnSync("node", [settingsScript, "--setting", "edges", "--values", "off 3"], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/edge refinement must be "off" or "<radius>,<eps>"/);
  });
});
