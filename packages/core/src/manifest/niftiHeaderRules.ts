/**
 * The default NIfTI header routing table (manifest routing.niftiHeaderRules when a manifest has none): ordered,
 * case-insensitive regular expressions over the header's text fields, first match wins. The Python twin is
 * DEFAULT_NIFTI_HEADER_RULES in training/daft_train/export/manifest.py (export writes this table into the manifest);
 * packages/core/src/routing/niftiHeaderRoute.test.ts checks both against the same table of real-world strings.
 */

/** The NIfTI header text fields a rule may read. */
export const NIFTI_TEXT_FIELDS = ["descrip", "intent_name", "aux_file"] as const;
export type NiftiTextField = (typeof NIFTI_TEXT_FIELDS)[number];

export interface NiftiHeaderRule {
  /** Case-insensitive regular expression tested against each field's text. */
  pattern: string;
  modality: string;
  /** Fields it reads (default: all three, in NIFTI_TEXT_FIELDS order). */
  fields?: NiftiTextField[];
}

/** Whole-token alternatives: bounded by a non-alphanumeric character or an end (as the file-name rules). */
const token = (alternatives: string) => `(?:^|[^A-Za-z0-9])(?:${alternatives})(?:[^A-Za-z0-9]|$)`;

export const DEFAULT_NIFTI_HEADER_RULES: NiftiHeaderRule[] = [
  { pattern: token("OCT|Optical Coherence Tomography"), modality: "OCT" },
  // Before CT: a PET of a PET/CT study says both.
  { pattern: token("PET|FDG|PSMA|SUV|SUVbw"), modality: "PET" },
  { pattern: token("CT|CTA|CBCT|HRCT|NCCT|CECT|Computed Tomography"), modality: "CT" },
  {
    pattern: token(
      "MR|MRI|MRA|fMRI|T1|T1w|T1c|T1ce|T1Gd|T2|T2w|T2star|FLAIR|DWI|DTI|ADC|SWI|MPRAGE|MP-RAGE|MP2RAGE|SPGR|BOLD|PDw|STIR",
    ),
    modality: "MR",
  },
  // dcm2niix writes "TE=<ms>;Time=<hhmmss>" for MR only ("Time=..." otherwise; versions before 2017 wrote TE=0
  // for every modality); SPM writes "TR=<ms>ms/TE=<ms>ms/FA=<deg>deg". A non-zero TE or TR is an MR sequence.
  {
    pattern: "(?:^|[^A-Za-z0-9])(?:TE|TR)=\\s*(?:0*[1-9]|0*\\.0*[1-9])",
    modality: "MR",
    fields: ["descrip"],
  },
  {
    pattern: token("US|Ultrasound|Ultrasonography|Sonography|Echocardiography|Echocardiogram"),
    modality: "US",
  },
  { pattern: token("X-Ray|XRay|CXR|XR|Radiograph|Radiography"), modality: "XRay" },
  { pattern: token("Mammo|Mamm|Mammography|Mammogram|Tomosynthesis"), modality: "Mammography" },
  { pattern: token("Dermoscopy|Dermoscope|Dermatoscopy"), modality: "Dermoscopy" },
  { pattern: token("Endoscopy|Endoscope|Colonoscopy|Gastroscopy"), modality: "Endoscopy" },
  { pattern: token("Fundus"), modality: "Fundus" },
  { pattern: token("Microscopy|Microscope|Histology|Histopathology"), modality: "Microscopy" },
];
