#!/usr/bin/env node
// What a fresh `daft segment` process loads before its first case (not a test): for each CLI bundle folder given
// (packages/node/dist/bundle, or abSegment's bench/out/ab/bundle-a|b), the JavaScript the segment command imports
// statically — its chunk and every chunk reachable by static imports — with the largest chunks named, and the
// median time to import it all in a fresh node process (the bundles alternating, so a busy machine slows both).
//   node bench/bundleLoad.mjs [--repeats 15] <bundle dir> [<bundle dir> ...]
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: { repeats: { type: "string", default: "15" } },
});
const dirs = (positionals.length ? positionals : ["packages/node/dist/bundle"]).map((d) => resolve(d));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The segment command's chunk and every chunk it reaches through static imports (`from "./…"`, `import "./…"`). */
function staticClosure(dir) {
  const chunks = join(dir, "chunks");
  const entry = readdirSync(chunks).find((f) => /^segment-.*\.js$/.test(f));
  if (!entry) throw new Error(`${dir}: no chunks/segment-*.js (not a CLI bundle folder)`);
  const seen = new Set([join(chunks, entry)]);
  for (const file of seen) {
    for (const [, spec] of readFileSync(file, "utf8").matchAll(
      /^(?:import|export)\s(?:[^;]*?\sfrom\s*)?"(\.\/[^"]+)";/gms,
    ))
      seen.add(join(chunks, spec));
  }
  return [...seen];
}

const closures = dirs.map(staticClosure);
const times = dirs.map(() => []);
const script =
  "const t = performance.now(); await import(process.argv[1]); console.log(performance.now() - t);";
for (let r = 0; r < Number(o.repeats); r++) {
  const order = dirs.map((_, i) => i);
  if (r % 2) order.reverse();
  for (const i of order) {
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", script, closures[i][0]], {
      encoding: "utf8",
    });
    if (run.status !== 0) throw new Error(`${dirs[i]}: ${run.stderr}`);
    times[i].push(Number(run.stdout.trim()));
  }
}

console.log(
  `| bundle | chunks loaded | kB loaded | largest chunks (kB) | median import ms (${o.repeats} runs) |`,
);
console.log("|---|---:|---:|---|---:|");
dirs.forEach((dir, i) => {
  const sizes = closures[i].map((f) => [basename(f), statSync(f).size / 1000]).sort((a, b) => b[1] - a[1]);
  const total = sizes.reduce((s, [, kb]) => s + kb, 0);
  const largest = sizes
    .slice(0, 3)
    .map(([f, kb]) => `${f} ${kb.toFixed(0)}`)
    .join(", ");
  console.log(
    `| ${dir} | ${sizes.length} | ${total.toFixed(0)} | ${largest} | ${median(times[i]).toFixed(1)} |`,
  );
});
