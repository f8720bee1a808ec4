// How much of the 2D error could the 256 model frame itself cause? Every ground-truth object of a split is sent
// through the engine's own frame and back — area-resized to the frame, then the engine's LogitUpsampler
// (bilinear, threshold 0) — as if a model had predicted it perfectly at 256, and scored against itself with the
// challenge metric. Three kinds of "perfect" frame output: soft (the area coverage − 0.5: the ceiling of the frame),
// any (coverage > 0 as ±1 logits: what a model trained on the training targets' `> 0` rule would say) and half
// (coverage ≥ 0.5 as ±1). Usage: node scripts/frame_ceiling.mjs [cases-dir] [split] [max cases per modality]
import { readFileSync } from "node:fs";
import { LogitUpsampler, evaluateCase, modelFrame, readNpz, resizeArea } from "@daft/core";

const [casesDir = "data/cases", split = "val", maxPerModality = "25"] = process.argv.slice(2);
const SIZE = 256;
const MODES = {
  soft: (coverage) => coverage - 0.5,
  any: (coverage) => (coverage > 0 ? 1 : -1),
  half: (coverage) => (coverage >= 0.5 ? 1 : -1),
};

const byModality = new Map();
for (const line of readFileSync(`${casesDir}/cases.csv`, "utf8").trim().split("\n").slice(1)) {
  const [name, , modality, dimension, , caseSplit] = line.split(",");
  if (dimension !== "2" || caseSplit !== split) continue;
  if (!byModality.has(modality)) byModality.set(modality, []);
  byModality.get(modality).push(name);
}

/** The label map a perfect frame-resolution model would paint for every object of `gt`. */
function throughFrame(gt, height, width, toLogit) {
  let labels = 0;
  for (const v of gt) if (v > labels) labels = v;
  const frame = modelFrame(height, width, SIZE);
  const { resizedHeight: rh, resizedWidth: rw } = frame;
  const painted = new Uint16Array(height * width);
  const upsampler = new LogitUpsampler(frame);
  const logits = new Float32Array(SIZE * SIZE);
  const mask = new Float32Array(height * width);
  for (let label = 1; label <= labels; label++) {
    for (let i = 0; i < mask.length; i++) mask[i] = gt[i] === label ? 1 : 0;
    const coverage = resizeArea(mask, height, width, 1, rh, rw);
    logits.fill(-1);
    for (let y = 0; y < rh; y++)
      for (let x = 0; x < rw; x++) logits[y * SIZE + x] = toLogit(coverage[y * rw + x]);
    upsampler.paint(logits, 0, painted, label);
  }
  return painted;
}

console.log(
  `Ground truth through the ${SIZE}² frame and back, ${split} split (≤ ${maxPerModality} cases per modality): mean DSC / NSD\n`,
);
console.log(`| modality | cases | ${Object.keys(MODES).join(" | ")} |`);
console.log(
  `|---|---:|${Object.keys(MODES)
    .map(() => "---:")
    .join("|")}|`,
);
for (const [modality, names] of [...byModality].sort()) {
  const picked = names.slice(0, Number(maxPerModality));
  const sums = Object.keys(MODES).map(() => ({ dsc: 0, nsd: 0 }));
  for (const name of picked) {
    const gts = readNpz(readFileSync(`${casesDir}/${split}/gts/${name}.npz`)).get("gts");
    const [height, width] = gts.shape;
    Object.values(MODES).forEach((toLogit, k) => {
      const pred = throughFrame(gts.data, height, width, toLogit);
      const m = evaluateCase({ pred, gt: gts.data, shape: [height, width] });
      sums[k].dsc += m.dsc;
      sums[k].nsd += m.nsd;
    });
  }
  const cells = sums.map(
    (t) => `${(t.dsc / picked.length).toFixed(3)} / ${(t.nsd / picked.length).toFixed(3)}`,
  );
  console.log(`| ${modality} | ${picked.length} | ${cells.join(" | ")} |`);
}
