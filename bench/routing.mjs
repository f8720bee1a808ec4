// Cost of routing a case (not a test): meta-features + the learned selector + the rule chain, on the generated
// benchmark cases and the shipped models/selector.json. Medians of 7 runs after a warm-up.
//   npm run build && node bench/run.mjs --generate-only && node bench/routing.mjs
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import {
  decodeChallengeCase,
  metaFeaturesOfCase,
  parseManifest,
  parseSelector,
  predictWithSelector,
  readNpz,
  routeCaseWithSelector,
} from "../packages/core/dist/index.js";

const root = new URL("..", import.meta.url).pathname;
const manifest = parseManifest(JSON.parse(readFileSync(join(root, "models/manifest.json"), "utf8")));
const selector = parseSelector(JSON.parse(readFileSync(join(root, "models/selector.json"), "utf8")));
const casesDir = join(root, "bench/out/cases");
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log("| case | file-name rule ms | selector (meta-features + MLP) ms | decided by |");
console.log("|---|---:|---:|---|");
for (const name of readdirSync(casesDir)
  .filter((f) => f.endsWith(".npz"))
  .sort()) {
  const kase = decodeChallengeCase(readNpz(new Uint8Array(readFileSync(join(casesDir, name)))), name);
  const route = (fileName) =>
    routeCaseWithSelector(manifest, { fileName }, () =>
      predictWithSelector(selector, metaFeaturesOfCase(kase)),
    );
  const time = (fileName) => {
    route(fileName);
    const ms = [];
    for (let i = 0; i < 7; i++) {
      const t = performance.now();
      route(fileName);
      ms.push(performance.now() - t);
    }
    return median(ms);
  };
  const byName = time(name);
  const bySelector = time("");
  console.log(
    `| ${name} | ${byName.toFixed(3)} | ${bySelector.toFixed(1)} | ${route("").rule} → ${route("").expert} |`,
  );
}
