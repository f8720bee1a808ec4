// Gives a modality its own manifest entry on another expert's ONNX files, so that the modality's inference
// settings (maskLogitOffset, edgeRefinement, …: scripts/calibrate_expert_settings.mjs) can be calibrated without
// touching the expert's other users — e.g. Fundus, served by the general model's weights, while the general
// entry stays the uncalibrated fallback for every modality without an expert (PET, OCT, unknown inputs).
// The new entry copies the source entry (files, sha256, frame, zoom, mirroring, metrics) minus its calibrated
// settings, under the new name, serving only the given modalities; it is placed before the source entry, and the
// manifest is validated (@daft/core's schema) and written atomically.
//
// Usage: node scripts/modality_entry.mjs --models models --from general --name Fundus --modalities Fundus
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseManifest } from "@daft/core";

const { values: o } = parseArgs({
  options: {
    models: { type: "string", default: "models" },
    from: { type: "string" },
    name: { type: "string" },
    modalities: { type: "string" },
  },
});
if (!o.from || !o.name || !o.modalities) {
  process.stderr.write(
    "usage: node scripts/modality_entry.mjs --models DIR --from EXPERT --name NAME --modalities A,B\n",
  );
  process.exit(2);
}
const path = join(o.models, "manifest.json");
const manifest = JSON.parse(readFileSync(path, "utf8"));
const index = manifest.experts.findIndex((e) => e.name === o.from);
if (index < 0) throw new Error(`${path}: no expert "${o.from}"`);
const modalities = o.modalities.split(",").filter(Boolean);
const wanted = new Set(modalities.map((m) => m.toLowerCase())); // modalities match case-insensitively, as in routing
const taken = manifest.experts.find(
  (e) => e.name !== o.from && e.modalities.some((m) => wanted.has(m.toLowerCase())),
);
if (taken) throw new Error(`${path}: expert "${taken.name}" already serves ${taken.modalities.join(", ")}`);
const { maskLogitOffset, edgeRefinement, ...source } = manifest.experts[index];
const entry = { ...source, name: o.name, modalities };
manifest.experts.splice(index, 0, entry);
parseManifest(manifest); // duplicate names, bad fields: refused before anything is written
const tmp = `${path}.tmp-${process.pid}`;
writeFileSync(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
renameSync(tmp, path);
process.stdout.write(`${path}: "${o.name}" (${modalities.join(", ")}) on ${o.from}'s files\n`);
