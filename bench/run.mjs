#!/usr/bin/env node
// End-to-end benchmark of `daft segment` on challenge-sized cases; see bench/README.md.
//   node bench/run.mjs [--models DIR] [--repeats 5] [--quick] [--cases ID,...] [--timeout S] [--gmac G]
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { CASES, ensureCases, QUICK_CASE_IDS } from "./cases.mjs";
import { measureProcess, memoryProbeName, parseCsv } from "./measure.mjs";
import { describeMachine, renderMarkdown, summarizeCase } from "./report.mjs";

const HELP = `usage: node bench/run.mjs [options]

Generates challenge-format cases into bench/out/cases, runs \`daft segment\` on each as a fresh process
with and without the slice embedding cache, and with test-time mirroring off (one pass), and writes
bench/out/results.md + results.json.
Build first: npx tsc -b packages/core packages/node

options:
  --models <dir>   models folder with manifest.json (default: models/ when it has a manifest, else a
                   synthetic expert written to bench/out/synthetic-model)
  --repeats <n>    runs per case and mode; medians are reported (default 5)
  --quick          1 repeat of ${QUICK_CASE_IDS.join(", ")}
  --cases <ids>    comma-separated case ids (${CASES.map((c) => c.id).join(", ")})
  --timeout <s>    kill a run after this many seconds (default 1800)
  --gmac <g>       GMAC of the synthetic encoder (default 1.5)
  --generate-only  write the cases (and the synthetic model) and stop
  -h, --help       this help`;

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(benchDir, "..");
const outDir = join(benchDir, "out");
const log = (line) => process.stderr.write(`${line}\n`);

function fail(message) {
  log(`bench: ${message}`);
  process.exit(2);
}

function parseOptions() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        models: { type: "string" },
        repeats: { type: "string" },
        quick: { type: "boolean", default: false },
        cases: { type: "string" },
        timeout: { type: "string", default: "1800" },
        gmac: { type: "string", default: "1.5" },
        "generate-only": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (e) {
    fail(`${e.message}\n${HELP}`);
  }
  if (parsed.help) {
    process.stdout.write(`${HELP}\n`);
    process.exit(0);
  }
  const repeats = Number(parsed.repeats ?? (parsed.quick ? 1 : 5));
  const timeoutS = Number(parsed.timeout);
  const gmac = Number(parsed.gmac);
  if (!Number.isInteger(repeats) || repeats < 1)
    fail(`--repeats must be a positive integer, got ${parsed.repeats}`);
  if (!(timeoutS > 0)) fail(`--timeout must be a positive number of seconds, got ${parsed.timeout}`);
  if (!(gmac > 0)) fail(`--gmac must be positive, got ${parsed.gmac}`);
  const ids = parsed.cases
    ? parsed.cases.split(",").map((s) => s.trim())
    : parsed.quick
      ? QUICK_CASE_IDS
      : null;
  const unknown = (ids ?? []).filter((id) => !CASES.some((c) => c.id === id));
  if (unknown.length > 0)
    fail(`unknown case id(s) ${unknown.join(", ")}; known: ${CASES.map((c) => c.id).join(", ")}`);
  const cases = ids ? CASES.filter((c) => ids.includes(c.id)) : CASES;
  const generateOnly = parsed["generate-only"];
  return { models: parsed.models, repeats, timeoutMs: timeoutS * 1000, gmac, cases, generateOnly };
}

/** The built packages: writeNpz from @daft/core, the model builders from @daft/node's testing helpers. */
async function loadBuiltPackages() {
  const build = "run `npx tsc -b packages/core packages/node` first";
  const coreEntry = join(repoRoot, "packages/core/dist/index.js");
  const testingEntry = join(repoRoot, "packages/node/dist/testing/index.js");
  const cliEntry = join(repoRoot, "packages/node/dist/cli/main.js");
  for (const file of [coreEntry, testingEntry, cliEntry]) {
    if (!existsSync(file)) fail(`${relative(repoRoot, file)} is missing: ${build}`);
  }
  const core = await import(pathToFileURL(coreEntry).href);
  if (typeof core.writeNpz !== "function") fail(`packages/core/dist exports no writeNpz: ${build}`);
  const testing = await import(pathToFileURL(testingEntry).href);
  return { writeNpz: core.writeNpz, testing };
}

/** Chooses the models folder and describes its experts (GMAC from model-info.json or manifest metrics). */
async function prepareModels(requested, gmac, testing) {
  let dir;
  let kind;
  if (requested) {
    dir = resolve(requested);
    if (!existsSync(join(dir, "manifest.json"))) fail(`${dir}: no manifest.json in the models folder`);
    kind = "given";
  } else if (existsSync(join(repoRoot, "models/manifest.json"))) {
    dir = join(repoRoot, "models");
    kind = "shipped experts";
  } else {
    dir = join(outDir, "synthetic-model");
    kind = `synthetic ~${gmac} GMAC expert (no models/manifest.json yet)`;
    const encoder = testing.syntheticEncoder({ gmac });
    const decoder = testing.syntheticDecoder({ embeddingShape: encoder.embeddingShape });
    await testing.writeOracleModelDir(dir, { name: "synthetic", encoder, decoder });
    const info = { synthetic: { encoderGmac: encoder.gmac, decoderGmacPerBox: decoder.gmacPerBox } };
    await writeFile(join(dir, "model-info.json"), `${JSON.stringify(info, null, 2)}\n`);
  }
  const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8"));
  const infoPath = join(dir, "model-info.json");
  const info = existsSync(infoPath) ? JSON.parse(await readFile(infoPath, "utf8")) : {};
  const experts = manifest.experts.map((e) => ({
    name: e.name,
    version: e.version,
    embedding_shape: e.embeddingShape,
    encoder_gmac: info[e.name]?.encoderGmac ?? e.metrics?.encoderGmac ?? null,
    decoder_gmac_per_box: info[e.name]?.decoderGmacPerBox ?? e.metrics?.decoderGmacPerBox ?? null,
  }));
  return { dir, kind, experts };
}

/**
 * cache: the engine as shipped (embedding cache, the manifest's test-time mirroring); no-cache: every box
 * re-encodes its slices (the reference pipeline's way), same mirroring; one-pass: cache, mirroring off.
 */
const MODE_ARGS = {
  cache: [],
  "no-cache": ["--no-embedding-cache"],
  "one-pass": ["--mirror", "off"],
};

const number = (v) => (v === undefined || v === "" ? null : Number(v));

/** One fresh `daft segment` process on one case; returns the measured run. */
async function runCase(spec, mode, repeat, modelsDir, timeoutMs) {
  const runDir = join(outDir, "runs", spec.id, mode, String(repeat));
  await rm(runDir, { recursive: true, force: true });
  await mkdir(runDir, { recursive: true });
  const args = [join(repoRoot, "packages/node/bin/daft.js"), "segment", spec.path, "-o", runDir];
  args.push("--models", modelsDir, "--quiet", ...MODE_ARGS[mode]);
  const m = await measureProcess(process.execPath, args, { timeoutMs, cwd: repoRoot });
  const run = {
    mode,
    repeat,
    wall_s: m.wallMs / 1000,
    peak_rss_mb: m.peakRssMb,
    exit_code: m.exitCode,
    ok: false,
  };
  const outputFile = join(runDir, spec.file);
  const timingsFile = join(runDir, "timings.csv");
  if (m.timedOut) run.error = `timed out after ${timeoutMs / 1000} s`;
  else if (m.exitCode !== 0) run.error = `exit ${m.exitCode ?? m.signal}: ${m.stderrTail}`;
  else if (!existsSync(outputFile)) run.error = `no output ${spec.file} written`;
  else if (!existsSync(timingsFile)) run.error = "no timings.csv written";
  else {
    const rows = parseCsv(await readFile(timingsFile, "utf8"));
    const row = rows.find((r) => r.case === spec.file) ?? rows[0];
    if (!row) run.error = "timings.csv has no row";
    else {
      run.ok = true;
      run.timings = { expert: row.expert ?? null, modality: row.modality ?? null, route: row.route ?? null };
      for (const [column, value] of Object.entries(row)) {
        if (column.endsWith("_ms") || ["boxes", "slices", "encodes"].includes(column)) {
          run.timings[column] = number(value);
        }
      }
    }
  }
  await rm(runDir, { recursive: true, force: true });
  return run;
}

function describeRun(spec, run) {
  const head = `${spec.id} ${run.mode} #${run.repeat + 1}:`;
  if (!run.ok) return `${head} FAILED (${run.error})`;
  const t = run.timings;
  const rss = run.peak_rss_mb === null ? "?" : run.peak_rss_mb.toFixed(0);
  return `${head} ${run.wall_s.toFixed(2)} s, ${rss} MB, encode ${t.encode_ms} ms (${t.encodes} runs), decode ${t.decode_ms} ms`;
}

async function main() {
  const options = parseOptions();
  const { writeNpz, testing } = await loadBuiltPackages();
  await mkdir(outDir, { recursive: true });
  const models = await prepareModels(options.models, options.gmac, testing);
  log(`models: ${models.dir} (${models.kind})`);
  const cases = await ensureCases(join(outDir, "cases"), options.cases, {
    writeNpz,
    seededRandom: testing.seededRandom,
    log,
  });
  if (options.generateOnly) return 0;

  // One unrecorded run warms the page cache (node, onnxruntime, the models) like any second use would.
  const smallest = cases.find((c) => c.kind === "2d") ?? cases[0];
  const warmup = await runCase(smallest, "cache", -1, models.dir, options.timeoutMs);
  if (!warmup.ok) log(`warm-up run failed: ${warmup.error}`);

  const summaries = [];
  const allRuns = {};
  for (const spec of cases) {
    const runs = [];
    for (let repeat = 0; repeat < options.repeats; repeat++) {
      // Rotate the order so no mode always runs first or right after another.
      const modes = Object.keys(MODE_ARGS);
      for (let k = 0; k < repeat % modes.length; k++) modes.push(modes.shift());
      for (const mode of modes) {
        const run = await runCase(spec, mode, repeat, models.dir, options.timeoutMs);
        log(describeRun(spec, run));
        runs.push(run);
      }
    }
    allRuns[spec.id] = runs;
    summaries.push(summarizeCase(spec, runs));
  }

  const machine = describeMachine(repoRoot, await memoryProbeName());
  const config = {
    repeats: options.repeats,
    timeout_s: options.timeoutMs / 1000,
    cases: cases.map((c) => c.id),
  };
  const report = { machine, models, config, cases: summaries, runs: allRuns };
  const markdown = renderMarkdown(report);
  await writeFile(join(outDir, "results.json"), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(outDir, "results.md"), markdown);
  process.stdout.write(markdown);
  log(`wrote ${relative(process.cwd(), join(outDir, "results.md"))} and results.json`);
  const failed = Object.values(allRuns)
    .flat()
    .filter((r) => !r.ok).length;
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => fail(e instanceof Error ? (e.stack ?? e.message) : String(e)),
);
