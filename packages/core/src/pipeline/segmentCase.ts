import { DaftInputError } from "../errors.js";
import { decodeChallengeCase, encodeSegmentationNpz, type ChallengeCase } from "../io/challengeCase.js";
import { openNpz } from "../io/npz.js";
import type { Manifest } from "../manifest/schema.js";
import type { Expert } from "../model/expert.js";
import { metaFeaturesOfCase } from "../routing/metaFeatures.js";
import type { RouteDecision } from "../routing/route.js";
import { predictWithSelector, type Selector } from "../routing/selector.js";
import { routeCaseWithSelector } from "../routing/selectorRoute.js";
import { boxBaselineLabels } from "./boxBaseline.js";
import { segmentImage, type SegmentOptions } from "./segmentImage.js";
import { segmentVolume } from "./segmentVolume.js";
import { SliceEmbeddingCache, type CacheStats } from "./sliceEmbeddingCache.js";
import { emptyTimings, type Clock, type StageTimings } from "./timings.js";

const INPUT_KEYS = ["imgs", "boxes", "spacing"];

export interface SegmentCaseOptions {
  manifest: Manifest;
  /** Creates (or reuses) the runtime session of an expert named in the manifest. */
  loadExpert: (name: string) => Promise<Expert>;
  now: Clock;
  /** Learned selector consulted when no explicit, metadata or file-name rule decides. */
  selector?: Selector;
  /** --expert / --modality */
  expert?: string;
  modality?: string;
  /** false reproduces the reference pipeline: every box re-encodes its slices. */
  shareEmbeddings?: boolean;
  /** "box": no model, every box painted as its own mask (the challenge's reference baseline). */
  baseline?: "box";
  /** Bound of the slice embedding cache in bytes. */
  cacheBytes?: number;
  maxBoxesPerDecode?: number;
}

export interface CaseRecord {
  case: string;
  dimension: 2 | 3;
  shape: number[];
  route: RouteDecision;
  boxes: number;
  /** Distinct slices segmented (1 for 2D). */
  slices: number;
  cache: CacheStats;
  timings: StageTimings;
  totalMs: number;
}

/**
 * One challenge case, top to bottom:
 *   decode the .npz → route to an expert → preprocess each slice → encode it (once, cached) →
 *   decode all boxes meeting that slice together → upsample + threshold into the label map → encode `segs`.
 * Reading and writing files is the adapter's job; this works on bytes, in Node and in the browser.
 */
export async function segmentChallengeCase(
  name: string,
  bytes: Uint8Array,
  opts: SegmentCaseOptions,
): Promise<{ output: Uint8Array; record: CaseRecord; input: ChallengeCase; labels: Uint16Array }> {
  const { now } = opts;
  const started = now();
  const timings = emptyTimings();

  // 1. Decode and validate the input.
  // Only the input arrays are inflated (a file may also carry gts).
  const kase = withSource(name, () => {
    const archive = openNpz(bytes, name);
    const arrays = new Map(
      archive.keys.filter((k) => INPUT_KEYS.includes(k)).map((k) => [k, archive.read(k)] as const),
    );
    if (!arrays.has("imgs") || !arrays.has("boxes")) {
      throw new DaftInputError(
        `needs arrays 'imgs' and 'boxes'; found: ${archive.keys.join(", ") || "none"}`,
      );
    }
    return decodeChallengeCase(arrays, name);
  });
  timings.decodeInputMs = now() - started;

  // 2. Route to an expert: explicit → metadata → file name → learned selector on meta-features → fallback.
  const route: RouteDecision = withSource(name, () =>
    routeCaseWithSelector(
      opts.manifest,
      { fileName: name, expert: opts.expert, modality: opts.modality },
      () => (opts.selector ? predictWithSelector(opts.selector, metaFeaturesOfCase(kase)) : null),
    ),
  );
  if (opts.baseline === "box") {
    const { labels, shape } = boxBaselineLabels(kase);
    const cache = { encodes: 0, hits: 0, evictions: 0, peakBytes: 0 };
    const output = encodeSegmentationNpz(labels, shape);
    const baselineRoute = { ...route, expert: "box-baseline" };
    const dimension = kase.kind === "2d" ? 2 : 3;
    const record: CaseRecord = {
      case: name,
      dimension,
      shape,
      route: baselineRoute,
      boxes: kase.boxes.length,
      slices: 0,
      cache,
      timings,
      totalMs: now() - started,
    };
    return { output, input: kase, labels, record };
  }
  const expert = await opts.loadExpert(route.expert);
  const zoom = opts.manifest.experts.find((e) => e.name === route.expert)?.smallObjectZoom;

  // 3–6. Preprocess, encode once per slice, decode boxes together, postprocess into labels.
  const share = opts.shareEmbeddings ?? true;
  const newCache = () => new SliceEmbeddingCache({ maxBytes: opts.cacheBytes ?? 1 << 30, enabled: share });
  const segOpts = (cache: SliceEmbeddingCache): SegmentOptions => ({
    cache,
    timings,
    now,
    maxBoxesPerDecode: opts.maxBoxesPerDecode ?? 16,
  });
  let labels: Uint16Array;
  let shape: number[];
  let slices = 1;
  const caches: SliceEmbeddingCache[] = [];
  if (kase.kind === "2d") {
    const { image } = kase;
    const labelled = kase.boxes.map((box, i) => ({ box, label: i + 1 }));
    shape = [image.height, image.width];
    labels = new Uint16Array(image.height * image.width);
    // Without sharing, each box is its own pass (the reference pipeline re-encoded per box).
    const groups = share ? [labelled] : labelled.map((b) => [b]);
    for (const group of groups) {
      const cache = newCache();
      caches.push(cache);
      await segmentImage(image, group, expert, labels, { ...segOpts(cache), zoom });
    }
  } else {
    const { volume } = kase;
    const labelled = kase.boxes.map((box, i) => ({ box, label: i + 1 }));
    shape = [volume.depth, volume.height, volume.width];
    labels = new Uint16Array(volume.depth * volume.height * volume.width);
    const groups = share ? [labelled] : labelled.map((b) => [b]);
    const visited = new Set<number>();
    for (const group of groups) {
      const cache = newCache();
      caches.push(cache);
      await segmentVolume(volume, group, expert, labels, segOpts(cache));
      for (const { box } of group)
        for (let z = Math.round(box[2]); z <= Math.round(box[5]); z++) visited.add(z);
    }
    slices = visited.size;
  }

  // 7. Encode the output (segs uint16, label = box index + 1).
  const t = now();
  const output = encodeSegmentationNpz(labels, shape);
  timings.encodeOutputMs = now() - t;

  const cache = caches.reduce<CacheStats>(
    (acc, c) => ({
      encodes: acc.encodes + c.stats.encodes,
      hits: acc.hits + c.stats.hits,
      evictions: acc.evictions + c.stats.evictions,
      peakBytes: Math.max(acc.peakBytes, c.stats.peakBytes),
    }),
    { encodes: 0, hits: 0, evictions: 0, peakBytes: 0 },
  );
  return {
    output,
    input: kase,
    labels,
    record: {
      case: name,
      dimension: kase.kind === "2d" ? 2 : 3,
      shape,
      route,
      boxes: kase.boxes.length,
      slices,
      cache,
      timings,
      totalMs: now() - started,
    },
  };
}

function withSource<T>(source: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof DaftInputError) throw e.withSource(source);
    throw new DaftInputError(e instanceof Error ? e.message : String(e), source);
  }
}
