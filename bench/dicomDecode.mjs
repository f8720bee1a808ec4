// The decoders alone: milliseconds per 512×512 slice for each storage of bench/dicom.mjs's CT series
// (bench/out/dicom/<storage>/, written by that benchmark), on one thread in this process — readDicom +
// decodeDicomPixels, the core's path for every slice. Median over the first --slices slices × --rounds rounds.
//
//   npx tsc -b packages/core && node bench/dicom.mjs --repeats 1 && node bench/dicomDecode.mjs [--slices 20] [--rounds 3]
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { decodeDicomPixels, readDicom } from "../packages/core/dist/index.js";
import { describeMachine, median } from "./report.mjs";

const root = join(import.meta.dirname, "..");
const { values: o } = parseArgs({
  options: {
    slices: { type: "string", default: "20" },
    rounds: { type: "string", default: "3" },
  },
});
const series = join(root, "bench/out/dicom");
const storages = [
  ["uncompressed", "native"],
  ["JPEG Lossless SV1", "jpeg_sv1"],
  ["RLE Lossless", "rle"],
  ["JPEG-LS lossless", "jpeg_ls"],
  ["JPEG 2000 lossless", "j2k"],
  ["HTJ2K lossless", "htj2k"],
].filter(([, folder]) => existsSync(join(series, folder)));
if (storages.length === 0) {
  console.error("bench/dicomDecode.mjs: no series in bench/out/dicom; run node bench/dicom.mjs first");
  process.exit(1);
}

const rows = [];
for (const [id, folder] of storages) {
  const files = readdirSync(join(series, folder))
    .sort()
    .slice(0, Number(o.slices))
    .map((name) => new Uint8Array(readFileSync(join(series, folder, name))));
  const times = [];
  for (let round = 0; round < Number(o.rounds); round++) {
    for (const bytes of files) {
      const started = performance.now();
      decodeDicomPixels(readDicom(bytes, folder), folder);
      times.push(performance.now() - started);
    }
  }
  rows.push(`| ${id} | ${median(times).toFixed(1)} |`);
}
const machine = describeMachine(root, "—");
console.log(
  `Decoding one 512×512 CT slice, median of ${o.slices} slices × ${o.rounds} rounds, one thread ` +
    `(git ${machine.git}, ${machine.cpu}, ${machine.cores} cores):\n\n` +
    "| stored as | ms per slice |\n|---|---:|\n" +
    rows.join("\n") +
    `\n\nCommand: \`node bench/dicomDecode.mjs --slices ${o.slices} --rounds ${o.rounds}\`.`,
);
