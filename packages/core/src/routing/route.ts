import type { Manifest } from "../manifest/schema.js";

/** Which rule chose the expert, in order of precedence. */
export type RouteRule =
  "explicit-expert" | "explicit-modality" | "metadata" | "filename" | "cluster" | "selector" | "fallback";

export interface RouteDecision {
  expert: string;
  /** Foundation modality the input was recognised as, when known. */
  modality: string | null;
  rule: RouteRule;
  /** Human-readable reason, for --explain and the timing CSV. */
  reason: string;
  /** The learned selector's confidence, when it was consulted. */
  confidence?: number;
}

export interface RouteInput {
  /** File base name, e.g. "2DBox_US_hc18_0002.npz". */
  fileName: string;
  /** --expert */
  expert?: string;
  /** --modality */
  modality?: string;
  /** A modality value from the file's metadata (e.g. DICOM Modality "CT"), mapped through the manifest. */
  metadataModality?: string;
  /**
   * A foundation modality read from header text by the manifest's rules (NIfTI: niftiHeaderModality), with the
   * reason to record ("NIfTI descrip 'T1 MPRAGE' → MR"). Used when there is no metadataModality.
   */
  headerModality?: { modality: string; reason: string };
}

/** The expert serving a modality: one that lists it (case-insensitive), else the fallback. */
export function expertForModality(manifest: Manifest, modality: string): string {
  const m = modality.toLowerCase();
  const hit = manifest.experts.find((e) => e.modalities.some((x) => x.toLowerCase() === m));
  return hit ? hit.name : manifest.fallback;
}

/**
 * Foundation modality from a file name, by the manifest's ordered, case-insensitive rules (first match wins), with
 * the part of the name that matched (separators around it trimmed: "_US_" → "US"), for a reason a person can read.
 */
export function modalityFromFileName(
  manifest: Manifest,
  fileName: string,
): { modality: string; pattern: string; matched: string } | null {
  const base = fileName.split(/[\\/]/).pop() ?? fileName;
  for (const rule of manifest.routing.filenameRules) {
    const hit = new RegExp(rule.pattern, "i").exec(base);
    if (hit) {
      const trimmed = hit[0].replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
      return { modality: rule.modality, pattern: rule.pattern, matched: trimmed || hit[0] };
    }
  }
  return null;
}

/**
 * Route one input to an expert: explicit expert → explicit modality → metadata (DICOM Modality, then header text)
 * → file name → general fallback.
 * Throws when an explicitly named expert does not exist.
 */
export function routeCase(manifest: Manifest, input: RouteInput): RouteDecision {
  if (input.expert) {
    if (!manifest.experts.some((e) => e.name === input.expert)) {
      throw new Error(
        `unknown expert "${input.expert}" (available: ${manifest.experts.map((e) => e.name).join(", ")})`,
      );
    }
    return {
      expert: input.expert,
      modality: input.modality ?? null,
      rule: "explicit-expert",
      reason: "--expert",
    };
  }
  if (input.modality) {
    return {
      expert: expertForModality(manifest, input.modality),
      modality: input.modality,
      rule: "explicit-modality",
      reason: `--modality ${input.modality}`,
    };
  }
  if (input.metadataModality) {
    const mapped = manifest.routing.metadataModalities[input.metadataModality] ?? input.metadataModality;
    return {
      expert: expertForModality(manifest, mapped),
      modality: mapped,
      rule: "metadata",
      reason: `metadata modality ${input.metadataModality}`,
    };
  }
  if (input.headerModality) {
    return {
      expert: expertForModality(manifest, input.headerModality.modality),
      modality: input.headerModality.modality,
      rule: "metadata",
      reason: input.headerModality.reason,
    };
  }
  const byName = modalityFromFileName(manifest, input.fileName);
  if (byName) {
    return {
      expert: expertForModality(manifest, byName.modality),
      modality: byName.modality,
      rule: "filename",
      reason: `file name contains "${byName.matched}"`,
    };
  }
  return { expert: manifest.fallback, modality: null, rule: "fallback", reason: "no rule matched" };
}
