// Summaries (medians), targets and the Markdown/JSON report of a benchmark run.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, release, totalmem, type } from "node:os";
import { join } from "node:path";

export const PEAK_RSS_TARGET_MB = 2048;
export const CACHE_SPEEDUP_TARGET_3D = 5;

/** Process start → output written, in seconds; null where the brief sets no time target. */
const WALL_TARGET_S = { "2d-1box": 0.3, "2d-241boxes": 1.5, "3d-287x512x512": 10 };

/** The official LiteMedSAM pipeline on the 2-core reference machine, seconds (≈ for the largest). */
const OFFICIAL_LITEMEDSAM_S = {
  "2d-1box": 4.1,
  "2d-241boxes": 61.5,
  "3d-115x400x400": 425,
  "3d-287x512x512": 450,
};
const OFFICIAL_APPROXIMATE = new Set(["3d-287x512x512"]);

export function median(values) {
  const sorted = values.filter((v) => typeof v === "number" && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function summarizeMode(runs) {
  const ok = runs.filter((r) => r.ok);
  const timing = (key) => median(ok.map((r) => r.timings?.[key]));
  return {
    runs: runs.length,
    ok: ok.length,
    wall_s: median(ok.map((r) => r.wall_s)),
    peak_rss_mb: median(ok.map((r) => r.peak_rss_mb)),
    max_peak_rss_mb: ok.length ? Math.max(...ok.map((r) => r.peak_rss_mb ?? 0)) : null,
    encode_ms: timing("encode_ms"),
    decode_ms: timing("decode_ms"),
    preprocess_ms: timing("preprocess_ms"),
    postprocess_ms: timing("postprocess_ms"),
    io_ms: timing("io_ms"),
    cli_total_ms: timing("total_ms"),
    /** Wall time the CLI's own total does not cover: node start, imports, model loading, exit. */
    overhead_ms: median(
      ok.map((r) => (r.timings?.total_ms == null ? null : r.wall_s * 1000 - r.timings.total_ms)),
    ),
    encodes: timing("encodes"),
    slices: timing("slices"),
    expert: ok[0]?.timings?.expert ?? null,
    errors: [...new Set(runs.filter((r) => !r.ok).map((r) => r.error))],
  };
}

/** Median over repeats of (wall of mode `over` ÷ wall of mode `under`), each pair from the same repeat. */
function pairedWallRatio(runs, over, under) {
  const ratios = [];
  for (const r of runs.filter((x) => x.mode === under && x.ok)) {
    const pair = runs.find((x) => x.mode === over && x.ok && x.repeat === r.repeat);
    if (pair) ratios.push(pair.wall_s / r.wall_s);
  }
  return median(ratios);
}

/**
 * Medians per mode; the cache speed-up (no-cache ÷ cache) and the mirroring cost (cache ÷ one-pass) as medians of
 * per-repeat wall ratios.
 */
export function summarizeCase(spec, runs) {
  const cache = summarizeMode(runs.filter((r) => r.mode === "cache"));
  const noCache = summarizeMode(runs.filter((r) => r.mode === "no-cache"));
  const onePass = summarizeMode(runs.filter((r) => r.mode === "one-pass"));
  const speedup = pairedWallRatio(runs, "no-cache", "cache");
  const wallTarget = WALL_TARGET_S[spec.id] ?? null;
  const official = OFFICIAL_LITEMEDSAM_S[spec.id] ?? null;
  const checks = [];
  if (wallTarget !== null && cache.wall_s !== null) {
    checks.push({ what: `≤ ${wallTarget} s`, pass: cache.wall_s <= wallTarget });
  }
  if (cache.max_peak_rss_mb !== null) {
    checks.push({
      what: `≤ ${PEAK_RSS_TARGET_MB / 1024} GB`,
      pass: cache.max_peak_rss_mb <= PEAK_RSS_TARGET_MB,
    });
  }
  if (spec.kind === "3d" && speedup !== null) {
    checks.push({ what: `cache ≥ ${CACHE_SPEEDUP_TARGET_3D}×`, pass: speedup >= CACHE_SPEEDUP_TARGET_3D });
  }
  return {
    id: spec.id,
    file: spec.file,
    kind: spec.kind,
    shape: spec.kind === "2d" ? [spec.size, spec.size, 3] : spec.shape,
    boxes: spec.boxes,
    z_reuse_bound: spec.facts?.zReuseBound ?? null,
    cache,
    no_cache: noCache,
    one_pass: onePass,
    cache_speedup: speedup,
    /** Median of per-repeat (cache wall ÷ one-pass wall): what test-time mirroring costs. */
    mirroring_cost: pairedWallRatio(runs, "cache", "one-pass"),
    official_litemedsam_s: official,
    faster_than_official: official !== null && cache.wall_s ? official / cache.wall_s : null,
    checks,
  };
}

function gitDescribe(repoRoot) {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: repoRoot }).toString().trim();
    const dirty =
      execFileSync("git", ["status", "--porcelain"], { cwd: repoRoot }).toString().trim().length > 0;
    return dirty ? `${commit} (+ uncommitted changes)` : commit;
  } catch {
    return "unknown";
  }
}

export function describeMachine(repoRoot, memoryProbe) {
  let cpuModel = cpus()[0]?.model ?? "unknown";
  let processors = cpus().length;
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? cpuModel;
    processors = (info.match(/^processor\s*:/gm) ?? []).length || processors;
  } catch {
    // not Linux: keep os.cpus()
  }
  let onnxruntime = "unknown";
  try {
    const pkg = join(repoRoot, "node_modules/onnxruntime-node/package.json");
    onnxruntime = JSON.parse(readFileSync(pkg, "utf8")).version;
  } catch {
    // not installed where expected
  }
  return {
    cpu: cpuModel,
    cores: processors,
    memory_gb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${type()} ${release()}`,
    node: process.version,
    onnxruntime_node: onnxruntime,
    git: gitDescribe(repoRoot),
    memory_probe: memoryProbe,
    date: new Date().toISOString(),
  };
}

const fmt = (v, digits = 2) => (v === null || v === undefined ? "—" : v.toFixed(digits));
const ms = (v) => (v === null || v === undefined ? "—" : Math.round(v).toString());

function modelLines(models) {
  return models.experts.map((e) => {
    const gmac = e.encoder_gmac === null ? "GMAC not recorded" : `encoder ${e.encoder_gmac.toFixed(2)} GMAC`;
    const perBox =
      e.decoder_gmac_per_box === null ? "" : `, decoder ${e.decoder_gmac_per_box.toFixed(3)} GMAC/box`;
    return `- expert \`${e.name}\` (${e.version}; embedding [${e.embedding_shape.join(", ")}]; ${gmac}${perBox})`;
  });
}

function speedup(c) {
  if (c.cache_speedup === null) return "—";
  const bound = c.z_reuse_bound === null ? "" : ` (z reuse ≤ ${c.z_reuse_bound.toFixed(1)}×)`;
  return `${c.cache_speedup.toFixed(1)}×${bound}`;
}

export function renderMarkdown({ machine, models, config, cases }) {
  const lines = [
    "# DAFT benchmark results",
    "",
    `Medians of ${config.repeats} repeat(s) per case and mode; each run is a fresh \`daft segment\` process,`,
    "timed from spawn to exit (output written). The modes' order rotates from repeat to repeat; the speed-up",
    "is the median of the per-repeat ratios (no-cache wall ÷ cache wall). io = reading the case file and",
    "writing the label map (decompression and compression included). Overhead = wall − the CLI's own",
    "total_ms (node start, imports, model loading, exit). z reuse = Σ box z extents ÷ slices any box covers:",
    "the most a per-slice embedding cache can cut 3D encoder runs by. Encoder runs count slices (or tiles) embedded;",
    "with test-time mirroring each is one encoder pass per mirror image. One-pass = mirroring off (`--mirror off`);",
    "mirroring cost = median of the per-repeat ratios (wall ÷ one-pass wall).",
    "",
    `- machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memory_gb} GB, ${machine.os}`,
    `- node ${machine.node}, onnxruntime-node ${machine.onnxruntime_node}, git ${machine.git}`,
    `- peak memory: ${machine.memory_probe}; date ${machine.date}`,
    `- models: ${models.dir} (${models.kind})`,
    ...modelLines(models),
    "",
    "| case | boxes | wall s | encode ms | decode ms | io ms | overhead ms | encoder runs | peak MB | no-cache wall s | no-cache encoder runs | no-cache peak MB | cache speed-up | one-pass wall s | mirroring cost | targets | official LiteMedSAM s |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
  ];
  for (const c of cases) {
    const a = c.cache;
    const b = c.no_cache;
    const targets = c.checks.map((t) => `${t.pass ? "✓" : "✗"} ${t.what}`).join("<br>") || "—";
    const official =
      c.official_litemedsam_s === null
        ? "—"
        : `${OFFICIAL_APPROXIMATE.has(c.id) ? "≈" : ""}${c.official_litemedsam_s}${c.faster_than_official ? ` (ours ${c.faster_than_official.toFixed(0)}× faster)` : ""}`;
    lines.push(
      `| ${c.id} | ${c.boxes} | ${fmt(a.wall_s)} | ${ms(a.encode_ms)} | ${ms(a.decode_ms)} | ${ms(a.io_ms)} | ${ms(a.overhead_ms)} | ${ms(a.encodes)} | ` +
        `${ms(a.peak_rss_mb)} | ${fmt(b.wall_s)} | ${ms(b.encodes)} | ${ms(b.peak_rss_mb)} | ` +
        `${speedup(c)} | ${fmt(c.one_pass.wall_s)} | ${c.mirroring_cost === null ? "—" : `${c.mirroring_cost.toFixed(1)}×`} | ` +
        `${targets} | ${official} |`,
    );
  }
  const failures = cases.flatMap((c) =>
    [
      ["cache", c.cache],
      ["no-cache", c.no_cache],
      ["one-pass", c.one_pass],
    ].flatMap(([mode, m]) =>
      m.errors.map((e) => `- ${c.id} (${mode}): ${m.runs - m.ok} of ${m.runs} run(s) failed: ${e}`),
    ),
  );
  if (failures.length > 0) lines.push("", "Failed runs:", "", ...failures);
  return `${lines.join("\n")}\n`;
}
