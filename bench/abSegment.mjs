#!/usr/bin/env node
// Two builds of `daft segment` side by side (not a test): the CLI bundle of an earlier commit (A) against the
// working tree's (B), each case segmented by a fresh process per run, A and B alternating (their order swapped
// every repeat) so that a noisy, shared machine slows both alike. Wall time from spawn to exit; medians, and the
// median of the per-repeat ratios B ÷ A. Both must write the same label map, or the run stops.
//   node bench/run.mjs --generate-only
//   node bench/abSegment.mjs --a <git ref> [--repeats 5] [--a-args="<flags>"] [--b-args="<flags>"]
//                            [--allow-different] [case.npz ...]       (default: the generated bench cases)
// Inputs may also be NIfTI files or DICOM folders, with --box in both sides' args; a .nii.gz output is compared
// decompressed. --b-args: extra `daft segment` flags for B only, e.g. an option that restores A's output where B's default
// differs (the label maps must still be the same); --a-args likewise for A. --allow-different measures an option
// that changes the output (e.g. --a HEAD --a-args="--edges off": what edge refinement costs): the label maps may
// then differ, and the table says how many runs they did.
// Each side is bundled with esbuild straight from its TypeScript sources (@daft/core aliased to the side's own
// packages/core/src), A from a `git worktree` of the ref under bench/out/ab/, so no build of either is reused.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gunzipSync } from "node:zlib";
import { decode as decodePng } from "fast-png";

const root = new URL("..", import.meta.url).pathname;
const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    a: { type: "string" },
    repeats: { type: "string", default: "5" },
    models: { type: "string", default: join(root, "models") },
    "a-args": { type: "string", default: "" },
    "b-args": { type: "string", default: "" },
    "allow-different": { type: "boolean", default: false },
  },
});
if (!o.a) {
  console.error(
    'usage: node bench/abSegment.mjs --a <git ref> [--repeats 5] [--models DIR] [--b-args="<flags>"] [case.npz ...]',
  );
  process.exit(2);
}
const repeats = Number(o.repeats);
const casesDir = join(root, "bench/out/cases");
const cases = positionals.length
  ? positionals
  : existsSync(casesDir)
    ? readdirSync(casesDir)
        .filter((f) => f.endsWith(".npz"))
        .sort()
        .map((f) => join(casesDir, f))
    : [];
if (cases.length === 0) {
  console.error("abSegment: no cases (run `node bench/run.mjs --generate-only`, or name .npz files)");
  process.exit(2);
}

const abDir = join(root, "bench/out/ab");
const git = (...args) => execFileSync("git", ["-C", root, ...args], { encoding: "utf8" }).trim();
const commitA = git("rev-parse", "--verify", `${o.a}^{commit}`);
const commitB = `${git("rev-parse", "HEAD")}${git("status", "--porcelain", "--untracked-files=no") ? " + changes" : ""}`;

/** esbuild's CLI bundle of the sources under `tree`, into `out`; returns a script that runs it as `daft`. */
function bundle(tree, out) {
  rmSync(out, { recursive: true, force: true });
  execFileSync(
    join(root, "node_modules/.bin/esbuild"),
    [
      "packages/node/src/cli/main.ts",
      "packages/node/src/io/dicomDecodeWorker.ts",
      // the models' worker thread (since session 24), where the side has one
      ...(existsSync(join(tree, "packages/node/src/runtime/expertWorker.ts"))
        ? ["packages/node/src/runtime/expertWorker.ts"]
        : []),
      "--bundle",
      "--splitting",
      "--platform=node",
      "--format=esm",
      "--target=node20",
      "--external:onnxruntime-node",
      "--alias:@daft/core=./packages/core/src/index.ts",
      // the core's schema library entry (since session 23), where the side has one
      ...(existsSync(join(tree, "packages/core/src/zodMini.ts"))
        ? ["--alias:@daft/core/zod=./packages/core/src/zodMini.ts"]
        : []),
      `--outdir=${out}`,
      "--entry-names=[name]",
      "--chunk-names=chunks/[name]-[hash]",
      "--log-level=warning",
    ],
    { cwd: tree, stdio: "inherit" },
  );
  const launcher = join(out, "daft.mjs");
  writeFileSync(
    launcher,
    'const { run } = await import("./main.js");\nprocess.exitCode = await run(process.argv.slice(2));\n',
  );
  return launcher;
}

const treeA = join(abDir, "tree-a");
if (existsSync(treeA)) git("worktree", "remove", "--force", treeA);
git("worktree", "add", "--detach", treeA, commitA);
const sides = [
  {
    name: "A",
    commit: commitA,
    cli: bundle(treeA, join(abDir, "bundle-a")),
    args: o["a-args"].split(" ").filter(Boolean),
  },
  {
    name: "B",
    commit: commitB,
    cli: bundle(root, join(abDir, "bundle-b")),
    args: o["b-args"].split(" ").filter(Boolean),
  },
];
git("worktree", "remove", "--force", treeA);

const work = mkdtempSync(join(tmpdir(), "daft-ab-"));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * What a label map file holds, as a digest: its bytes, or for a .nii.gz its decompressed bytes (header and
 * labels), for a .png its size, type and pixels, so that two builds that deflate the same file differently
 * (another level, another codec, another PNG writer) still agree.
 */
function labelMapDigest(out) {
  // The one file beside timings.csv and objects.csv (a DICOM folder's is <folder>.nii.gz).
  const [file, ...more] = readdirSync(out)
    .filter((f) => !f.endsWith(".csv"))
    .map((f) => join(out, f));
  if (!file || more.length > 0) throw new Error(`${out}: expected one label map, found ${readdirSync(out)}`);
  const bytes = readFileSync(file);
  if (file.endsWith(".png")) {
    const png = decodePng(bytes);
    return createHash("sha256")
      .update(`${png.width}x${png.height}x${png.channels}x${png.depth}`)
      .update(new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength))
      .digest("hex");
  }
  return createHash("sha256")
    .update(file.endsWith(".gz") ? gunzipSync(bytes) : bytes)
    .digest("hex");
}

function segment(side, input, out) {
  rmSync(out, { recursive: true, force: true });
  const started = performance.now();
  const r = spawnSync(
    process.execPath,
    [side.cli, "segment", input, "-o", out, "--models", o.models, "--quiet", ...side.args],
    {
      encoding: "utf8",
    },
  );
  const seconds = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`${side.name} failed on ${input}: ${r.stderr.trim()}`);
  return seconds;
}

const rows = [];
for (const input of cases) {
  const name = input.split("/").pop();
  const times = { A: [], B: [] };
  const ratios = [];
  let different = 0;
  for (let i = 0; i < repeats; i++) {
    const order = i % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) times[side.name].push(segment(side, input, join(work, side.name)));
    ratios.push(times.B[i] / times.A[i]);
    const [a, b] = ["A", "B"].map((s) => labelMapDigest(join(work, s)));
    if (a !== b) {
      if (!o["allow-different"]) throw new Error(`${name}: A and B wrote different label maps`);
      different++;
    }
    process.stderr.write(`${name}: ${i + 1}/${repeats}\n`);
  }
  rows.push(
    `| ${name} | ${median(times.A).toFixed(2)} | ${median(times.B).toFixed(2)} | ${median(ratios).toFixed(3)} |` +
      (o["allow-different"] ? ` ${different}/${repeats} |` : ""),
  );
}
rmSync(work, { recursive: true, force: true });
console.log(
  `A = ${sides[0].commit}${o["a-args"] ? ` (${o["a-args"]})` : ""}, ` +
    `B = ${sides[1].commit}${o["b-args"] ? ` (${o["b-args"]})` : ""}; ${repeats} repeats, ` +
    "fresh process each, alternating\n",
);
console.log(
  o["allow-different"]
    ? "| case | A: median s | B: median s | median ratio B ÷ A | label maps differ |\n|---|---:|---:|---:|---:|"
    : "| case | A: median s | B: median s | median ratio B ÷ A |\n|---|---:|---:|---:|",
);
console.log(rows.join("\n"));
