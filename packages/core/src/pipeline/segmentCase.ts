import { DaftInputError } from "../errors.js";
import { decodeChallengeCase, encodeSegmentationNpz, type ChallengeCase } from "../io/challengeCase.js";
import { openNpz } from "../io/npz.js";
import type { Manifest } from "../manifest/schema.js";
import type { Expert } from "../model/expert.js";
import { routeCaseWithData } from "../routing/clusterRoute.js";
import { metaFeaturesOfCase, type MetaFeatures } from "../routing/metaFeatures.js";
import type { RouteDecision, RouteInput } from "../routing/route.js";
import { predictWithSelector, type Selector } from "../routing/selector.js";
import type { Subsets } from "../routing/subsets.js";
import { boxBaselineLabels } from "./boxBaseline.js";
import type { EdgeRefinement } from "./edgeRefinement.js";
import { MaskConfidenceTally } from "./maskConfidence.js";
import { offsetExpert } from "./maskLogitOffset.js";
import { PaintOrder, type OverlapPolicy } from "./paintOrder.js";
import { namesForBoxes } from "../prompts/objectNames.js";
import { segmentImage, type SegmentOptions } from "./segmentImage.js";
import { segmentVolume } from "./segmentVolume.js";
import { SliceEmbeddingCache, type CacheStats } from "./sliceEmbeddingCache.js";
import { mirroringFor, type Mirroring } from "./testTimeMirroring.js";
import { emptyTimings, type Clock, type StageTimings } from "./timings.js";

const INPUT_KEYS = ["imgs", "boxes", "spacing"];

export interface SegmentCaseOptions {
  manifest: Manifest;
  /** Creates (or reuses) the runtime session of an expert named in the manifest. */
  loadExpert: (name: string) => Promise<Expert>;
  now: Clock;
  /** Learned selector consulted when no explicit, metadata or file-name rule decides. */
  selector?: Selector;
  /** Cluster subsets named by the manifest's routing.subsets (cluster experts); see routing/clusterRoute.ts. */
  subsets?: Subsets;
  /** --expert / --modality */
  expert?: string;
  modality?: string;
  /** false reproduces the reference pipeline: every box re-encodes its slices. */
  shareEmbeddings?: boolean;
  /** "box": no model, every box painted as its own mask (the challenge's reference baseline). */
  baseline?: "box";
  /** Route as if the file had no name (measures the learned selector alone). */
  ignoreFileName?: boolean;
  /** false: ignore the experts' smallObjectZoom (segment every box on the whole image). */
  smallObjectZoom?: boolean;
  /** Test-time mirroring: average the logits of the image and its mirror images (default: the expert's
   *  manifest testTimeMirroring, else off). */
  mirroring?: Mirroring;
  /** Which mask is on top where masks overlap: "inner" (default; a box inside another above it, else later
   *  boxes on top) or "later" (the challenge's reference: later boxes on top); paintOrder.ts. */
  overlaps?: OverlapPolicy;
  /** Edge refinement of the upsampled logits (edgeRefinement.ts): null = off; absent = the expert's
   *  manifest edgeRefinement, else off. */
  edgeRefinement?: EdgeRefinement | null;
  /** Paint each mask only inside its own box (default true; false paints whatever the model outputs, as the
   *  reference pipeline does). */
  clipToBox?: boolean;
  /** The objects' names, one per box in box order (prompts/objectNames.ts); absent: "box <n>". */
  names?: readonly string[];
  /** Bound of the slice embedding cache in bytes. */
  cacheBytes?: number;
  maxBoxesPerDecode?: number;
  /**
   * Told as the case goes: parts done of all (a volume's slice steps — a slice both sweeps visit counts twice —
   * or a 2D image's tiles and decoder chunks). Not told with shareEmbeddings false (one pass per box).
   */
  onProgress?: (done: number, total: number) => void;
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
  /**
   * Per box (index = label − 1): how sure the model was of its mask, 0..1 (maskConfidence.ts); null for the box
   * baseline, which has no model.
   */
  confidence: (number | null)[];
  /** Per box: the decoder's own IoU prediction (SAM's IoU head), averaged over its decoder calls; null as above. */
  predictedIou: (number | null)[];
  /** Per box: the object's name, when names were given (index = label − 1). */
  names?: string[];
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
  const started = opts.now();

  // 1. Decode and validate the input (only the input arrays are inflated; a file may also carry gts).
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
  const decodeInputMs = opts.now() - started;

  // 2–6. Route, preprocess, encode, decode, postprocess.
  const { labels, shape, record } = await segmentDecodedCase(name, kase, opts);
  record.timings.decodeInputMs = decodeInputMs;

  // 7. Encode the output (segs uint16, label = box index + 1).
  const t = opts.now();
  const output = encodeSegmentationNpz(labels, shape);
  record.timings.encodeOutputMs = opts.now() - t;
  record.totalMs = opts.now() - started;
  return { output, input: kase, labels, record };
}

/**
 * A decoded case (from a challenge .npz, NIfTI, DICOM or a picture), its boxes in voxel coordinates:
 *   route to an expert → preprocess each slice → encode it once (cached) → decode all boxes meeting that slice
 *   together (logits + the expert's calibrated offset, maskLogitOffset.ts) → upsample (edges refined onto the
 *   image's where the expert says so, edgeRefinement.ts) + threshold into the label map, each mask inside its
 *   own box (label = box index + 1; where masks overlap, a box inside another is on top, else the later box).
 * With test-time mirroring, "encode" and "decode" run once per mirror image and the logits are averaged before
 * upsampling (testTimeMirroring.ts); the rest is unchanged.
 */
export async function segmentDecodedCase(
  name: string,
  kase: ChallengeCase,
  opts: SegmentCaseOptions & Pick<RouteInput, "metadataModality" | "headerModality">,
): Promise<{ labels: Uint16Array; shape: number[]; record: CaseRecord }> {
  const { now } = opts;
  const started = now();
  const timings = emptyTimings();
  const shape =
    kase.kind === "2d"
      ? [kase.image.height, kase.image.width]
      : [kase.volume.depth, kase.volume.height, kase.volume.width];
  const names = opts.names
    ? withSource(name, () => namesForBoxes(opts.names!, kase.boxes.length))
    : undefined;
  const paintOrder = PaintOrder.of(kase.boxes, opts.overlaps ?? "inner");
  const tally = new MaskConfidenceTally(paintOrder);
  const record = (route: RouteDecision, slices: number, cache: CacheStats): CaseRecord => ({
    case: name,
    dimension: kase.kind === "2d" ? 2 : 3,
    shape,
    route,
    boxes: kase.boxes.length,
    slices,
    cache,
    timings,
    totalMs: now() - started,
    confidence: kase.boxes.map((_, i) => tally.confidenceOf(i + 1) ?? null),
    predictedIou: kase.boxes.map((_, i) => tally.predictedIouOf(i + 1) ?? null),
    ...(names ? { names } : {}),
  });

  // Route: explicit → metadata → file name → cluster (manifest subsets) → learned selector → fallback.
  let features: MetaFeatures | undefined;
  const caseFeatures = () => (features ??= metaFeaturesOfCase(kase));
  const route: RouteDecision = withSource(name, () =>
    routeCaseWithData(
      opts.manifest,
      {
        fileName: opts.ignoreFileName ? "" : name,
        expert: opts.expert,
        modality: opts.modality,
        metadataModality: opts.metadataModality,
        headerModality: opts.headerModality,
      },
      {
        subsets: opts.subsets,
        features: caseFeatures,
        predict: () => (opts.selector ? predictWithSelector(opts.selector, caseFeatures()) : null),
      },
    ),
  );
  if (opts.baseline === "box") {
    const { labels } = boxBaselineLabels(kase); // the challenge's reference: later boxes on top, always
    return { labels, shape, record: record({ ...route, expert: "box-baseline" }, 0, emptyCacheStats()) };
  }
  const spec = opts.manifest.experts.find((e) => e.name === route.expert);
  const expert = offsetExpert(await opts.loadExpert(route.expert), spec?.maskLogitOffset);
  const zoom = opts.smallObjectZoom === false ? undefined : spec?.smallObjectZoom;
  const mirroring = mirroringFor(spec, opts.mirroring);
  const edgeRefinement =
    opts.edgeRefinement === undefined ? spec?.edgeRefinement : (opts.edgeRefinement ?? undefined);

  // Preprocess, encode once per slice, decode boxes together, postprocess into labels. Without sharing, each
  // box is its own pass with its own (disabled) cache: the reference pipeline re-encoded per box.
  const share = opts.shareEmbeddings ?? true;
  const caches: SliceEmbeddingCache[] = [];
  const segOpts = (): SegmentOptions => {
    const cache = new SliceEmbeddingCache({ maxBytes: opts.cacheBytes ?? 1 << 30, enabled: share });
    caches.push(cache);
    return {
      cache,
      timings,
      now,
      maxBoxesPerDecode: opts.maxBoxesPerDecode ?? 16,
      mirroring,
      confidence: tally,
      paintOrder,
      edgeRefinement,
      clipToBox: opts.clipToBox ?? true,
      ...(share && opts.onProgress ? { onProgress: opts.onProgress } : {}),
    };
  };
  const labels = new Uint16Array(shape.reduce((a, b) => a * b, 1));
  let slices = 1;
  if (kase.kind === "2d") {
    const labelled = kase.boxes.map((box, i) => ({ box, label: i + 1 }));
    for (const group of share ? [labelled] : labelled.map((b) => [b])) {
      await segmentImage(kase.image, group, expert, labels, { ...segOpts(), zoom });
    }
  } else {
    const labelled = kase.boxes.map((box, i) => ({ box, label: i + 1 }));
    const visited = new Set<number>();
    for (const group of share ? [labelled] : labelled.map((b) => [b])) {
      await segmentVolume(kase.volume, group, expert, labels, segOpts());
      for (const { box } of group)
        for (let z = Math.round(box[2]); z <= Math.round(box[5]); z++) visited.add(z);
    }
    slices = visited.size;
  }
  const cache = caches.reduce<CacheStats>(
    (acc, c) => ({
      encodes: acc.encodes + c.stats.encodes,
      hits: acc.hits + c.stats.hits,
      evictions: acc.evictions + c.stats.evictions,
      peakBytes: Math.max(acc.peakBytes, c.stats.peakBytes),
    }),
    emptyCacheStats(),
  );
  return { labels, shape, record: record(route, slices, cache) };
}

function emptyCacheStats(): CacheStats {
  return { encodes: 0, hits: 0, evictions: 0, peakBytes: 0 };
}

function withSource<T>(source: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof DaftInputError) throw e.withSource(source);
    throw new DaftInputError(e instanceof Error ? e.message : String(e), source);
  }
}
