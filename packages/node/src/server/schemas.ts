/**
 * The shapes of every JSON body `daft serve` reads or writes, as zod schemas: the handler validates requests with
 * them, the tests parse responses with them, and /openapi.json is generated from them (z.toJSONSchema), so the
 * description and the implementation cannot drift apart.
 */
import * as z from "@daft/core/zod";
import { isEdgeRefinementText, MIRRORINGS, OVERLAP_POLICIES, type CaseRecord } from "@daft/core";

export const ErrorBodySchema = z.object({
  error: z.string().check(z.describe("one line naming the file or field and the problem")),
});

export const HealthSchema = z.object({
  ok: z.literal(true),
  version: z.string(),
  models: z.string().check(z.describe("the models folder the server loaded")),
});

const coordinate = z.number().check(z.refine(Number.isFinite, "must be a finite number"));

/** Box prompts: 4 numbers (x0,y0,x1,y1) or 6 (x0,y0,z0,x1,y1,z1) each, max corners inclusive, all of one kind. */
export function boxesSchema(maxBoxes: number) {
  return z
    .array(
      z
        .array(coordinate)
        .check(
          z.refine(
            (b) => b.length === 4 || b.length === 6,
            "a box is 4 numbers (x0,y0,x1,y1) or 6 (x0,y0,z0,x1,y1,z1)",
          ),
        ),
    )
    .check(
      z.maxLength(maxBoxes, `at most ${maxBoxes} boxes per request`),
      z.refine(
        (boxes) => boxes.every((b) => b.length === boxes[0]!.length),
        "mixed 2D (4 numbers) and 3D (6 numbers) boxes",
      ),
      z.describe(
        "box prompts in voxels (or millimetres with world), max corners inclusive; label = box index + 1",
      ),
    );
}

const promptFields = (maxBoxes: number) => ({
  boxes: z.optional(boxesSchema(maxBoxes)),
  world: z
    .optional(z.boolean())
    .check(z.describe("boxes are millimetres in the input's patient space (NIfTI RAS, DICOM LPS)")),
  modality: z
    .optional(z.string().check(z.minLength(1)))
    .check(z.describe("route as this modality (e.g. CT, Microscopy)")),
  window: z
    .optional(z.string().check(z.minLength(1)))
    .check(z.describe('CT window: a preset name or "W/L", e.g. "400/40"')),
  zoom: z
    .optional(z.boolean())
    .check(z.describe("segment small boxes on zoomed tiles where the expert supports it (default true)")),
  mirroring: z
    .optional(z.enum(MIRRORINGS))
    .check(
      z.describe(
        "test-time mirroring: average over mirror images (x: 2 passes, xy: 4, off: 1; default: the expert's manifest setting)",
      ),
    ),
  names: z
    .optional(z.array(z.string()))
    .check(
      z.describe(
        'the objects\' names, one per box in box order (1–64 printable ASCII characters without backslash, comma or double quote; distinct): the label names of the outputs (DICOM-SEG Segment Label, Slicer segment names, label_names); default "box <n>"',
      ),
    ),
  edges: z
    .optional(
      z.string().check(z.refine(isEdgeRefinementText, 'must be "off" or "<radius>,<eps>", e.g. "3,0.001"')),
    )
    .check(
      z.describe(
        'edge refinement: "<radius>,<eps>" moves each mask\'s edge onto the image\'s edges with a guided filter (radius in model-frame pixels), "off" = bilinear upsampling only (default: the expert\'s manifest setting)',
      ),
    ),
  overlaps: z
    .optional(z.enum(OVERLAP_POLICIES))
    .check(
      z.describe(
        "where masks overlap: inner (default) puts a box lying inside another box above it, else later boxes on top; later: later boxes always on top (the challenge's painting)",
      ),
    ),
  clipToBox: z
    .optional(z.boolean())
    .check(
      z.describe(
        "true (default): each mask is painted only inside its own box (3D: the box's x–y extent on every slice); false: whatever the model outputs, as the reference pipeline",
      ),
    ),
});

/** The `request` field of POST /api/v1/segment. */
export function segmentRequestSchema(maxBoxes: number) {
  return z.strictObject({
    ...promptFields(maxBoxes),
    expert: z
      .optional(z.string().check(z.minLength(1)))
      .check(z.describe("use this expert instead of routing")),
    dicomSeg: z
      .optional(z.boolean())
      .check(
        z.describe(
          "also return a DICOM Segmentation (DICOM inputs only), the file daft segment --dicom-seg writes",
        ),
      ),
    slicerSeg: z
      .optional(z.boolean())
      .check(
        z.describe(
          "also return a 3D Slicer segmentation (.seg.nrrd), the file daft segment --slicer-seg writes",
        ),
      ),
  });
}

/** Records are sent parsed by these schemas: exactly the documented fields reach clients. */
export const RouteDecisionSchema = z.object({
  expert: z.string(),
  modality: z.nullable(z.string()),
  rule: z
    .string()
    .check(
      z.describe("which rule chose the expert (explicit-expert, metadata, filename, selector, fallback, …)"),
    ),
  reason: z.string(),
  confidence: z.optional(z.number()),
});

export const CaseRecordSchema = z.object({
  case: z.string(),
  dimension: z.union([z.literal(2), z.literal(3)]),
  shape: z.array(z.int()),
  route: RouteDecisionSchema,
  boxes: z.int(),
  slices: z.int(),
  cache: z.object({
    encodes: z.number(),
    hits: z.number(),
    evictions: z.number(),
    peakBytes: z.number(),
  }),
  timings: z.object({
    decodeInputMs: z.number(),
    preprocessMs: z.number(),
    encodeMs: z.number(),
    decodeMs: z.number(),
    postprocessMs: z.number(),
    encodeOutputMs: z.number(),
  }),
  totalMs: z.number(),
  confidence: z
    .array(z.nullable(z.number().check(z.gte(0), z.lte(1))))
    .check(
      z.describe(
        "per box (label − 1): how sure the model was of its mask, 0..1 — the share of sure pixels among sure and " +
          "doubtful ones (logit within ±ln 3 of the threshold); review the lowest first. null: no model (box baseline)",
      ),
    ),
  predictedIou: z
    .array(z.nullable(z.number()))
    .check(
      z.describe(
        "per box: the decoder's own IoU prediction (SAM's IoU head), averaged over its decoder calls",
      ),
    ),
  names: z
    .optional(z.array(z.string()))
    .check(z.describe("per box: the object's name, when the request gave names")),
});
// Every CaseRecord the core produces fits the schema (checked at compile time).
const recordFits: z.infer<typeof CaseRecordSchema> = {} as CaseRecord;
void recordFits;

/** A file a response carries beside the label map: its name (as daft segment names it), type and bytes. */
function attachedFile<M extends string>(flag: string, extension: string, mediaType: M, what: string) {
  return {
    fileName: z.string().check(z.describe(`<input stem>${extension}, as daft segment ${flag} names it`)),
    mediaType: z.literal(mediaType),
    output: z.base64().check(z.describe(`the ${what} file bytes, base64`)),
  };
}

export const SegmentResponseSchema = z.object({
  fileName: z.string().check(z.describe("the output file name, exactly as daft segment would write it")),
  mediaType: z.string(),
  output: z.base64().check(z.describe("the label-map file bytes, base64")),
  record: CaseRecordSchema,
  dicomSeg: z
    .optional(
      z.union([
        z.object({
          ...attachedFile("--dicom-seg", ".seg.dcm", "application/dicom", "DICOM-SEG"),
          segments: z.int(),
          frames: z.int(),
        }),
        z.object({ skipped: z.string().check(z.describe("why no SEG was written (an empty label map)")) }),
      ]),
    )
    .check(z.describe("with request.dicomSeg: the DICOM Segmentation")),
  slicerSeg: z
    .optional(
      z.object({
        ...attachedFile("--slicer-seg", ".seg.nrrd", "application/octet-stream", ".seg.nrrd"),
        segments: z.int().check(z.describe("one per box")),
      }),
    )
    .check(z.describe("with request.slicerSeg: the 3D Slicer segmentation")),
});

export const InferOutputSchema = z.enum(["image", "json", "all"]);

/** The `params` field of POST /infer/{model} (other MONAI Label keys are accepted and ignored). */
export function inferParamsSchema(maxBoxes: number) {
  return z.looseObject({
    ...promptFields(maxBoxes),
    result_extension: z
      .optional(z.enum([".nii.gz", ".nrrd"]))
      .check(z.describe("label map format: NIfTI (default, the input's geometry) or NRRD")),
  });
}

export const InferResultSchema = z.object({
  label_names: z
    .record(z.string(), z.int())
    .check(z.describe('the object\'s name (params.names, else "box <n>") → label value n')),
  label_confidence: z
    .record(z.string(), z.nullable(z.number().check(z.gte(0), z.lte(1))))
    .check(
      z.describe(
        "the object's name (as in label_names) → how sure the model was of its mask, 0..1 (record.confidence): review the lowest first",
      ),
    ),
  latencies: z
    .object({
      queue: z.number(),
      pre: z.number(),
      infer: z.number(),
      invert: z.number(),
      post: z.number(),
      write: z.number(),
      total: z.number(),
    })
    .check(z.describe("seconds, as MONAI Label reports them")),
  expert: z.string().check(z.describe("the expert that segmented the image")),
  model: z.string().check(z.describe("the model asked for (daft = routed automatically)")),
  file: z.string().check(z.describe("file name of the label map")),
  route: RouteDecisionSchema,
  record: CaseRecordSchema,
});

export const ModelInfoSchema = z.object({
  type: z.literal("segmentation"),
  labels: z.record(z.string(), z.int()),
  dimension: z.union([z.literal(2), z.literal(3)]),
  description: z.string(),
  config: z.record(z.string(), z.unknown()),
});

export const DatastoreStatusSchema = z.object({
  total: z.int(),
  completed: z.int(),
  label_tags: z.record(z.string(), z.number()),
  bytes: z.int(),
  limit_bytes: z.int(),
});

export const DatastoreAllSchema = z.object({
  name: z.string(),
  description: z.string(),
  objects: z.record(
    z.string(),
    z.object({
      image: z.object({
        ext: z.string(),
        info: z.object({ name: z.string(), size: z.int(), ts: z.int() }),
      }),
      labels: z.record(z.string(), z.never()),
    }),
  ),
});

export const DatastorePutSchema = z.object({ image: z.string() });

export const SessionInfoSchema = z.object({
  name: z.string().check(z.describe("the session id")),
  image: z.string().check(z.describe("the uploaded file's name, or how many files a DICOM series has")),
  files: z.array(z.string()),
  bytes: z.int(),
  create_ts: z.int(),
  last_update_ts: z.int(),
  expiry: z.int().check(z.describe("seconds without use after which the session is dropped")),
});

export const SessionCreatedSchema = z.object({ session_id: z.string(), session_info: SessionInfoSchema });

export const InfoSchema = z.object({
  name: z.string(),
  description: z.string(),
  version: z.string(),
  labels: z.array(z.string()),
  models: z.record(z.string(), ModelInfoSchema),
  trainers: z.record(z.string(), z.never()),
  strategies: z.record(z.string(), z.never()),
  scoring: z.record(z.string(), z.never()),
  train_stats: z.record(z.string(), z.never()),
  datastore: DatastoreStatusSchema,
});

export type Health = z.infer<typeof HealthSchema>;
export type SegmentResponse = z.infer<typeof SegmentResponseSchema>;
export type InferResult = z.infer<typeof InferResultSchema>;
export type Info = z.infer<typeof InfoSchema>;
export type ModelInfo = z.infer<typeof ModelInfoSchema>;
export type DatastoreStatus = z.infer<typeof DatastoreStatusSchema>;
export type DatastoreAll = z.infer<typeof DatastoreAllSchema>;
export type SessionInfo = z.infer<typeof SessionInfoSchema>;

/** A zod error as one line: `field: problem; field: problem`. */
export function issuesLine(error: z.core.$ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
}
