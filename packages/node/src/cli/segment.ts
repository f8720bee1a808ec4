import { mkdir, readFile, readdir, stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  caseOverlay,
  DaftInputError,
  encodeRgbPng,
  segmentChallengeCase,
  type CaseRecord,
  type Selector,
} from "@daft/core";
import { writeFileAtomic } from "../io/atomicWrite.js";
import { defaultModelsDir, loadSelector, ModelStore } from "../runtime/modelStore.js";
import { Progress } from "./progress.js";

export const HELP = `usage: daft segment <case.npz | folder>... -o <out-dir> [options]

Segments challenge-format cases (imgs, boxes[, spacing]) and writes <out-dir>/<same name>.npz with key 'segs'
(uint16, label = box index + 1) plus <out-dir>/timings.csv.

options:
  -o, --out <dir>          output folder (created)
  --models <dir>           models folder with manifest.json (default: the shipped models, or $DAFT_MODELS)
  --modality <name>        route every case as this modality (e.g. CT, Microscopy)
  --expert <name>          use this expert for every case
  --overlays <dir>         also write <dir>/<case>.png: the image with masks and boxes (3D: middle slices)
  --selector <file>        learned selector JSON (default: the one the manifest names)
  --no-selector            do not consult a learned selector
  --explain                print the routing decision and cache use of each case
  --baseline box           no model: write every box as its own mask (the challenge's reference baseline)
  --no-embedding-cache     re-encode every box's slices (the reference pipeline; for benchmarks)
  --cache-mb <n>           bound of the slice embedding cache (default 1024)
  --threads <n>            onnxruntime intra-op threads (default: all cores)
  --quiet                  no progress output
  -h, --help               this help`;

const TIMING_HEADER = [
  "case",
  "modality",
  "expert",
  "route",
  "confidence",
  "boxes",
  "slices",
  "encodes",
  "preprocess_ms",
  "encode_ms",
  "decode_ms",
  "postprocess_ms",
  "io_ms",
  "total_ms",
];

export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        out: { type: "string", short: "o" },
        models: { type: "string" },
        modality: { type: "string" },
        expert: { type: "string" },
        explain: { type: "boolean", default: false },
        overlays: { type: "string" },
        baseline: { type: "string" },
        selector: { type: "string" },
        "no-selector": { type: "boolean", default: false },
        "no-embedding-cache": { type: "boolean", default: false },
        "cache-mb": { type: "string" },
        threads: { type: "string" },
        quiet: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    process.stderr.write(`daft segment: ${(e as Error).message}\n${HELP}\n`);
    return 2;
  }
  const { values: o, positionals } = parsed;
  if (o.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (positionals.length === 0 || !o.out) {
    process.stderr.write(`daft segment: give at least one input and -o <out-dir>\n${HELP}\n`);
    return 2;
  }
  if (o.baseline !== undefined && o.baseline !== "box") {
    process.stderr.write(`daft segment: --baseline must be "box"\n`);
    return 2;
  }
  const threads = o.threads ? Number(o.threads) : availableParallelism();
  const cacheMb = o["cache-mb"] ? Number(o["cache-mb"]) : 1024;
  if (!Number.isInteger(threads) || threads < 1 || !(cacheMb > 0)) {
    process.stderr.write(`daft segment: --threads must be a positive integer and --cache-mb positive\n`);
    return 2;
  }

  let inputs: string[];
  let store: ModelStore;
  let selector: Selector | undefined;
  try {
    inputs = await listInputs(positionals);
    store = await ModelStore.open(resolve(o.models ?? defaultModelsDir()), { threads });
    selector = o["no-selector"]
      ? undefined
      : o.selector
        ? await loadSelector(resolve(o.selector))
        : store.selector;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
  const outDir = resolve(o.out);
  await mkdir(outDir, { recursive: true });

  const progress = new Progress(inputs.length, "segment", process.stderr, !o.quiet && inputs.length > 1);
  const rows: string[] = [TIMING_HEADER.join(",")];
  let failures = 0;
  for (const input of inputs) {
    const name = basename(input);
    const ioStart = performance.now();
    try {
      const bytes = await readFile(input);
      const ioRead = performance.now() - ioStart;
      const {
        output,
        record,
        input: kase,
        labels,
      } = await segmentChallengeCase(name, bytes, {
        manifest: store.manifest,
        loadExpert: (n) => store.load(n),
        now: () => performance.now(),
        expert: o.expert,
        modality: o.modality,
        shareEmbeddings: !o["no-embedding-cache"],
        cacheBytes: cacheMb * 1024 * 1024,
        baseline: o.baseline === "box" ? "box" : undefined,
        selector,
      });
      const writeStart = performance.now();
      await writeFileAtomic(join(outDir, name), output);
      const ioMs = ioRead + (performance.now() - writeStart);
      if (o.overlays) {
        await mkdir(resolve(o.overlays), { recursive: true });
        const png = encodeRgbPng(caseOverlay(kase, labels));
        await writeFileAtomic(join(resolve(o.overlays), name.replace(/\.npz$/, ".png")), png);
      }
      rows.push(timingRow(record, ioMs, performance.now() - ioStart));
      if (o.explain) process.stdout.write(explain(record));
    } catch (e) {
      failures++;
      process.stderr.write(`${oneLine(e, input)}\n`);
    }
    progress.tick(name);
  }
  await writeFileAtomic(join(outDir, "timings.csv"), `${rows.join("\n")}\n`);
  await store.dispose();
  if (failures > 0) {
    if (inputs.length > 1)
      process.stderr.write(`daft segment: ${failures} of ${inputs.length} cases failed\n`);
    return 1;
  }
  return 0;
}

async function listInputs(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    let s;
    try {
      s = await stat(p);
    } catch {
      throw new Error(`${p}: no such file or folder`);
    }
    if (s.isDirectory()) {
      const names = (await readdir(p)).filter((n) => n.endsWith(".npz")).sort();
      if (names.length === 0) throw new Error(`${p}: folder holds no .npz cases`);
      out.push(...names.map((n) => join(p, n)));
    } else {
      out.push(p);
    }
  }
  return out;
}

function timingRow(r: CaseRecord, ioMs: number, totalMs: number): string {
  const t = r.timings;
  const ms = (v: number) => v.toFixed(1);
  return [
    r.case,
    r.route.modality ?? "",
    r.route.expert,
    r.route.rule,
    r.route.confidence === undefined ? "" : r.route.confidence.toFixed(3),
    r.boxes,
    r.slices,
    r.cache.encodes,
    ms(t.preprocessMs),
    ms(t.encodeMs),
    ms(t.decodeMs),
    ms(t.postprocessMs),
    ms(ioMs + t.decodeInputMs + t.encodeOutputMs),
    ms(totalMs),
  ].join(",");
}

function explain(r: CaseRecord): string {
  return (
    `${r.case}: ${r.dimension}D ${r.shape.join("×")}, ${r.boxes} box(es) → expert "${r.route.expert}" ` +
    `(rule ${r.route.rule}: ${r.route.reason}${r.route.modality ? `; modality ${r.route.modality}` : ""}` +
    `${r.route.confidence === undefined ? "" : `; confidence ${r.route.confidence.toFixed(3)}`}); ` +
    `${r.slices} slice(s), ${r.cache.encodes} encoder run(s), ${r.cache.hits} cache hit(s), ` +
    `${r.totalMs.toFixed(0)} ms\n`
  );
}

function oneLine(e: unknown, input: string): string {
  if (e instanceof DaftInputError) return e.withSource(input).oneLine();
  const msg = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, " ").trim();
  return msg.includes(input) || msg.startsWith("/") ? msg : `${input}: ${msg}`;
}
