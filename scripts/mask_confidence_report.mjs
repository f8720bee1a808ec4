// Does `daft segment`'s mask confidence (objects.csv) tell which masks are wrong? Joins objects.csv with the
// per-label DSC of `daft eval`'s metrics.csv on (case, label) and prints, per modality and pooled:
//   - the Spearman rank correlation of the mask confidence with the object's DSC, and of the decoder's own
//     predicted IoU with it (the signal SAM's IoU head was trained to give);
//   - review triage: of the objects that failed (DSC < 0.5), the share a reviewer would meet by looking at the
//     least-confident 10 % of each modality's objects first (10 % expected by chance), again for both signals.
// The table is the core's confidenceTriage (what `daft eval` reports when objects.csv is beside the predictions),
// here for both signals. With --svg, also a picture: every object's mask confidence against its DSC, by modality.
//   node scripts/mask_confidence_report.mjs OBJECTS_CSV METRICS_CSV [--review 0.1] [--fail-below 0.5] [--svg F]
import { readFileSync, writeFileSync } from "node:fs";
import { confidenceTriage, POOLED_GROUP, spearman } from "@daft/core";
import { parseArgs } from "node:util";

const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    review: { type: "string", default: "0.1" },
    "fail-below": { type: "string", default: "0.5" },
    svg: { type: "string" },
  },
});
const [objectsCsv, metricsCsv] = positionals;
if (!objectsCsv || !metricsCsv) {
  console.error(
    "usage: node scripts/mask_confidence_report.mjs OBJECTS_CSV METRICS_CSV [--review 0.1] [--fail-below 0.5] [--svg F]",
  );
  process.exit(2);
}
const review = Number(options.review);
const failBelow = Number(options["fail-below"]);

/** Rows of a CSV whose fields hold no commas except, quoted, the first (case names). */
function readCsv(path) {
  const [header, ...lines] = readFileSync(path, "utf8").trim().split("\n");
  const keys = header.split(",");
  return lines.map((line) => {
    const quoted = line.startsWith('"') ? line.slice(1, line.indexOf('"', 1)) : undefined;
    const rest =
      quoted === undefined ? line.split(",") : [quoted, ...line.slice(quoted.length + 3).split(",")];
    return Object.fromEntries(keys.map((k, i) => [k, rest[i]]));
  });
}

const metrics = new Map(
  readCsv(metricsCsv).map((r) => [`${r.case}\u0000${r.label}`, { dsc: Number(r.dsc), modality: r.modality }]),
);
const objects = [];
for (const o of readCsv(objectsCsv)) {
  const m = metrics.get(`${o.case}\u0000${o.label}`);
  if (!m || Number.isNaN(m.dsc) || o.mask_confidence === "") continue;
  objects.push({ ...m, confidence: Number(o.mask_confidence), iou: Number(o.predicted_iou) });
}
if (objects.length === 0) {
  console.error(`${objectsCsv}: no object pairs with a scored label of ${metricsCsv}`);
  process.exit(1);
}

const groups = new Map();
for (const o of objects) groups.set(o.modality, [...(groups.get(o.modality) ?? []), o]);
// The core's triage (what daft eval reports), once per signal: the mask confidence and the decoder's IoU.
const triageBy = (signal) =>
  confidenceTriage(
    objects.map((o) => ({ modality: o.modality, dsc: o.dsc, confidence: signal(o) })),
    { review, failBelow },
  );
const byConfidence = triageBy((o) => o.confidence);
const byIou = triageBy((o) => o.iou);
const fmt = (x) => (Number.isNaN(x) ? "–" : x.toFixed(2));
const met = (r) => (r.failures === 0 ? "–" : `${r.caught}/${r.failures}`);

const pct = Math.round(review * 100);
console.log(
  `| modality | objects | Spearman: mask confidence vs DSC | Spearman: predicted IoU vs DSC | failures (DSC < ${failBelow}) | ` +
    `caught reviewing the ${pct} % least confident | … the ${pct} % lowest predicted IoU |`,
);
console.log("|---|---:|---:|---:|---:|---:|---:|");
// The pooled row reviews the least-confident share of each modality, so modalities are not ranked against each other.
byConfidence.forEach((c, i) => {
  const u = byIou[i];
  const name = c.group === POOLED_GROUP ? `**${c.group}**` : c.group;
  console.log(
    `| ${name} | ${c.objects} | ${fmt(c.spearman)} | ${fmt(u.spearman)} | ${c.failures} | ${met(c)} | ${met(u)} |`,
  );
});

if (options.svg) writeFileSync(options.svg, scatterSvg(groups));

/** Small multiples: one panel per modality, mask confidence (x) against DSC (y), failures below the dashed line. */
function scatterSvg(byModality) {
  const panels = [...byModality].sort((a, b) => a[0].localeCompare(b[0]));
  const size = 180;
  const pad = 34;
  const columns = 3;
  const width = columns * (size + pad) + pad;
  const height = Math.ceil(panels.length / columns) * (size + pad + 16) + pad;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
  ];
  const xMin = Math.min(0.4, ...objects.map((o) => o.confidence));
  panels.forEach(([modality, list], i) => {
    const x0 = pad + (i % columns) * (size + pad);
    const y0 = pad + Math.floor(i / columns) * (size + pad + 16);
    const px = (c) => x0 + ((c - xMin) / (1 - xMin)) * size;
    const py = (d) => y0 + (1 - d) * size;
    const rho = spearman(
      list.map((o) => o.confidence),
      list.map((o) => o.dsc),
    );
    parts.push(
      `<rect x="${x0}" y="${y0}" width="${size}" height="${size}" fill="none" stroke="#999"/>`,
      `<text x="${x0}" y="${y0 - 6}">${modality} · ${list.length} · ρ ${Number.isNaN(rho) ? "–" : rho.toFixed(2)}</text>`,
      `<line x1="${x0}" x2="${x0 + size}" y1="${py(failBelow)}" y2="${py(failBelow)}" stroke="#c33" stroke-dasharray="3 3"/>`,
      `<text x="${x0}" y="${y0 + size + 12}">${xMin.toFixed(1)}</text>`,
      `<text x="${x0 + size}" y="${y0 + size + 12}" text-anchor="end">1 (mask confidence)</text>`,
      `<text x="${x0 - 4}" y="${y0 + 8}" text-anchor="end">1</text>`,
      `<text x="${x0 - 4}" y="${y0 + size}" text-anchor="end">0</text>`,
    );
    for (const o of list)
      parts.push(
        `<circle cx="${px(o.confidence).toFixed(1)}" cy="${py(o.dsc).toFixed(1)}" r="1.6" fill="${o.dsc < failBelow ? "#c33" : "#247"}" fill-opacity="0.45"/>`,
      );
  });
  parts.push(
    `<text x="${pad}" y="${height - 8}">Each panel: modality · objects · Spearman ρ. y: the object's DSC (daft eval); red: DSC below ${failBelow}.</text>`,
    "</svg>",
  );
  return `${parts.join("\n")}\n`;
}
