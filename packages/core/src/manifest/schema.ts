import * as z from "../zodMini.js";
import { MAX_EDGE_RADIUS } from "../pipeline/edgeRefinement.js";
import { MAX_MASK_LOGIT_OFFSET } from "../pipeline/maskLogitOffset.js";
import { MIRRORINGS } from "../pipeline/testTimeMirroring.js";
import { DEFAULT_NIFTI_HEADER_RULES, NIFTI_TEXT_FIELDS } from "./niftiHeaderRules.js";

/**
 * models/manifest.json — the seam between the training package (writes it) and the engine (reads it).
 * Versioned: `version` is bumped on any breaking change; the Python side validates the same shape
 * (training/daft_train/export/manifest.py) and both sides test against fixtures/manifest/valid.json.
 */
export const MANIFEST_VERSION = 1 as const;

const sha256 = z.string().check(z.regex(/^[0-9a-f]{64}$/, "sha256 must be 64 lowercase hex digits"));
const relativeFile = z.string().check(
  z.minLength(1),
  z.refine((p) => !p.startsWith("/") && !p.split(/[\\/]/).includes(".."), {
    message: "model files must be relative paths inside the models folder",
  }),
);

export const OnnxFileSchema = z.object({
  file: relativeFile,
  sha256,
});

export const ExpertSchema = z.object({
  /** Unique name, e.g. "general", "CT", "Microscopy". */
  name: z.string().check(z.regex(/^[A-Za-z0-9_.-]+$/)),
  /** Foundation modalities this expert serves (e.g. ["CT", "MR", "PET"]); "*" only on the fallback. */
  modalities: z.array(z.string().check(z.minLength(1))),
  encoder: OnnxFileSchema,
  decoder: OnnxFileSchema,
  /** Side of the square model input. */
  inputSize: z.int().check(z.positive()),
  /** Embedding dims without batch, e.g. [128, 64, 64]. */
  embeddingShape: z.array(z.int().check(z.positive())).check(z.minLength(1)),
  /** How a resized image becomes model input: min-max over the resized, unpadded image to [0, 1]. */
  normalization: z.literal("minmax01"),
  /** Version string of this expert's weights (free text, e.g. a date or git describe). */
  version: z.string().check(z.minLength(1)),
  /** Which training stage produced it (teacher, distill, general, daft) and on which subset. */
  stage: z.optional(z.string()),
  subset: z.optional(z.string()),
  /**
   * Optional: segment boxes that are small in the whole-image frame on zoomed tiles (see
   * pipeline/smallObjectZoom.ts). Only for experts trained with zoomed crops.
   */
  smallObjectZoom: z.optional(
    z.object({
      belowFramePx: z.number().check(z.positive()),
      contextFactor: z.number().check(z.gte(2)),
      minTilePx: z.int().check(z.positive()),
    }),
  ),
  /**
   * Optional: test-time mirroring the engine applies by default with this expert (pipeline/testTimeMirroring.ts);
   * absent = "off". A caller may override it (daft segment --mirror).
   */
  testTimeMirroring: z.optional(z.enum(MIRRORINGS)),
  /**
   * Optional: a constant the engine adds to this expert's mask logits before the threshold at 0
   * (pipeline/maskLogitOffset.ts), calibrated per expert on validation data; absent = 0.
   */
  maskLogitOffset: z.optional(z.number().check(z.gte(-MAX_MASK_LOGIT_OFFSET), z.lte(MAX_MASK_LOGIT_OFFSET))),
  /**
   * Optional: refine this expert's upsampled mask logits onto the image's edges with a guided filter
   * (pipeline/edgeRefinement.ts): radius in model-frame pixels, eps on the [0, 1] intensity scale; absent = off.
   * A caller may override it (daft segment --edges).
   */
  edgeRefinement: z.optional(
    z.strictObject({
      radius: z.number().check(z.positive(), z.lte(MAX_EDGE_RADIUS)),
      eps: z.number().check(z.positive(), z.lte(1)),
    }),
  ),
  /** Optional: validation metrics recorded at training time. */
  metrics: z.optional(z.record(z.string(), z.number())),
});

export const FilenameRuleSchema = z.object({
  /** Case-insensitive regular expression tested against the file's base name. */
  pattern: z.string().check(z.minLength(1)),
  modality: z.string().check(z.minLength(1)),
});

export const NiftiHeaderRuleSchema = z.object({
  /** Case-insensitive regular expression tested against each of the fields' text. */
  pattern: z.string().check(z.minLength(1)),
  modality: z.string().check(z.minLength(1)),
  /** Which header text fields it reads (default: descrip, intent_name, aux_file). */
  fields: z.optional(z.array(z.enum(NIFTI_TEXT_FIELDS)).check(z.minLength(1))),
});

const defaultRouting = () => ({
  filenameRules: [],
  metadataModalities: {},
  niftiHeaderRules: structuredClone(DEFAULT_NIFTI_HEADER_RULES),
});

export const ManifestSchema = z
  .object({
    format: z.literal("daft-manifest"),
    version: z.literal(MANIFEST_VERSION),
    experts: z.array(ExpertSchema).check(z.minLength(1)),
    /** Name of the general expert every unrouted input goes to. */
    fallback: z.string(),
    /** Modality → expert name. A modality not listed goes to an expert listing it, else to the fallback. */
    routing: z._default(
      z.object({
        filenameRules: z._default(z.array(FilenameRuleSchema), []),
        /** Metadata values (e.g. DICOM Modality "PT") → foundation modality ("PET"). */
        metadataModalities: z._default(z.record(z.string(), z.string()), {}),
        /**
         * NIfTI header text (descrip, intent_name, aux_file) → foundation modality: ordered rules, first match wins.
         * Absent: the default table (manifest/niftiHeaderRules.ts); [] turns NIfTI header routing off.
         */
        niftiHeaderRules: z._default(z.array(NiftiHeaderRuleSchema), () =>
          structuredClone(DEFAULT_NIFTI_HEADER_RULES),
        ),
        /** Optional learned selector (daft selector train), a JSON file in the models folder. */
        selector: z.optional(relativeFile),
        /**
         * Optional cluster routing: a "daft-subsets" JSON (daft subsets propose) in the models folder. A case the
         * modality rules send to the fallback goes to the expert whose `subset` is its nearest-centroid cluster.
         */
        subsets: z.optional(relativeFile),
      }),
      defaultRouting,
    ),
    createdBy: z.optional(z.string()),
  })
  .check(
    z.superRefine((m, ctx) => {
      const names = new Set<string>();
      for (const e of m.experts) {
        if (names.has(e.name)) ctx.addIssue({ code: "custom", message: `duplicate expert name "${e.name}"` });
        names.add(e.name);
      }
      if (!names.has(m.fallback)) {
        ctx.addIssue({ code: "custom", message: `fallback "${m.fallback}" is not one of the experts` });
      }
      const ruleLists = [
        ["filename rule", m.routing.filenameRules],
        ["NIfTI header rule", m.routing.niftiHeaderRules],
      ] as const;
      for (const [kind, rules] of ruleLists) {
        for (const r of rules) {
          try {
            new RegExp(r.pattern, "i");
          } catch {
            ctx.addIssue({ code: "custom", message: `${kind} pattern is not a valid regex: ${r.pattern}` });
          }
        }
      }
    }),
  );

export type Manifest = z.infer<typeof ManifestSchema>;
export type ExpertSpec = z.infer<typeof ExpertSchema>;

/** Parse a manifest JSON value; throws an Error with a one-line summary of every problem. */
export function parseManifest(value: unknown): Manifest {
  const r = ManifestSchema.safeParse(value);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new Error(`invalid manifest: ${issues}`);
  }
  return r.data;
}
