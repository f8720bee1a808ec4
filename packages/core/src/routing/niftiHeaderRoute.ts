/**
 * Routing step 2 for NIfTI: the header's text fields (descrip, intent_name, aux_file) often name the modality or
 * the sequence ("CT", "T1 MPRAGE", "FLAIR", dcm2niix's "TE=30;Time=..."). The manifest's ordered
 * routing.niftiHeaderRules decide (first rule that matches any of its fields wins); no match falls through to the
 * file-name rules.
 */
import type { Manifest } from "../manifest/schema.js";
import {
  NIFTI_TEXT_FIELDS,
  type NiftiHeaderRule,
  type NiftiTextField,
} from "../manifest/niftiHeaderRules.js";

export type NiftiHeaderStrings = Partial<Record<NiftiTextField, string>>;

export interface NiftiHeaderMatch {
  modality: string;
  field: NiftiTextField;
  /** The field's text. */
  value: string;
  pattern: string;
}

const compiled = new Map<string, RegExp>();

function regex(pattern: string): RegExp {
  let r = compiled.get(pattern);
  if (!r) {
    r = new RegExp(pattern, "i");
    compiled.set(pattern, r);
  }
  return r;
}

/** The first rule (in order) whose pattern matches one of its fields; null when none does. */
export function modalityFromNiftiHeader(
  rules: readonly NiftiHeaderRule[],
  text: NiftiHeaderStrings,
): NiftiHeaderMatch | null {
  for (const rule of rules) {
    for (const field of rule.fields ?? NIFTI_TEXT_FIELDS) {
      const value = text[field];
      if (value && regex(rule.pattern).test(value)) {
        return { modality: rule.modality, field, value, pattern: rule.pattern };
      }
    }
  }
  return null;
}

/**
 * modalityFromNiftiHeader with the manifest's table, as the metadata input of routeCase:
 * source "NIfTI descrip 'T1 MPRAGE'", reason "NIfTI descrip 'T1 MPRAGE' → MR".
 */
export function niftiHeaderModality(
  manifest: Manifest,
  text: NiftiHeaderStrings,
): { modality: string; source: string; reason: string } | null {
  const hit = modalityFromNiftiHeader(manifest.routing.niftiHeaderRules, text);
  if (!hit) return null;
  const source = `NIfTI ${hit.field} '${hit.value}'`;
  return { modality: hit.modality, source, reason: `${source} → ${hit.modality}` };
}
