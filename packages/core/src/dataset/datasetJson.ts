/**
 * dataset.json of an nnU-Net / MSD-layout dataset (the layout of /work/shared/datasets): name, modality,
 * dimension, labels, instance_labels and the list of cases. Parsed with zod; every problem is one line.
 */
import * as z from "../zodMini.js";
import { DaftInputError } from "../errors.js";

const labelId = z.int().check(z.nonnegative());

/** int = one label id; list = a region (union of ids); string = a description (instance datasets). */
const LabelValueSchema = z.union([labelId, z.array(labelId).check(z.minLength(1)), z.string()]);

const CaseEntrySchema = z.object({
  /** The case id (default: the image file name without its extension; nnU-Net v2 drops the _0000 channel). */
  id: z.optional(fileNamePartSchema()),
  /** Image path relative to the dataset folder, e.g. "images/kvasir_0001.jpg". */
  image: z.string().check(z.minLength(1)),
  label: z.string().check(z.minLength(1)),
  /** Voxel spacing in mm in NIfTI axis order (x, y, z); the NIfTI header is preferred when valid. */
  spacing: z.optional(z.array(z.number().check(z.positive())).check(z.length(3))),
});

/** Used in output file names ("2DBox_<modality>_<name>_<case>"), so no path separators or spaces. */
function fileNamePartSchema() {
  return z
    .string()
    .check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "must be letters, digits, '.', '_' or '-'"));
}
const fileNamePart = fileNamePartSchema();

export const DatasetJsonSchema = z.object({
  name: fileNamePart,
  modality: fileNamePart.check(z.refine((value) => !value.includes("_"), "must not contain '_'")),
  dimension: z.union([z.literal(2), z.literal(3)]),
  labels: z.record(z.string(), LabelValueSchema),
  instance_labels: z.optional(z.boolean()),
  cases: z.array(CaseEntrySchema).check(z.minLength(1)),
});

export type DatasetJson = z.infer<typeof DatasetJsonSchema>;
export type CaseEntry = z.infer<typeof CaseEntrySchema>;

/** One object kind of a dataset: a name and the label ids whose union is its mask. */
export interface ObjectDefinition {
  name: string;
  labelIds: number[];
}

/**
 * How the objects of a case are found. Semantic: `definitions` in object order (regions by number of ids,
 * descending, stable; then single labels in dataset.json order). Instance: one object per id in the label
 * map, named `<instanceClass>_<id>`.
 */
export type ObjectPlan =
  { kind: "semantic"; definitions: ObjectDefinition[] } | { kind: "instance"; instanceClass: string };

export interface DatasetSpec extends DatasetJson {
  objectPlan: ObjectPlan;
}

/** Parses and checks dataset.json text. `source` names the file in errors. */
export function parseDatasetJson(text: string, source: string): DatasetSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new DaftInputError(
      `invalid JSON (${error instanceof Error ? error.message : String(error)})`,
      source,
    );
  }
  return checkDatasetJson(raw, source);
}

/** Checks parsed dataset.json content (DAFT's fields; see foreignDatasetJson.ts for MSD and nnU-Net v2). */
export function checkDatasetJson(raw: unknown, source: string): DatasetSpec {
  const parsed = DatasetJsonSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? issue.path.join(".") : "dataset.json";
    throw new DaftInputError(`${where}: ${issue.message}`, source);
  }
  return { ...parsed.data, objectPlan: planObjects(parsed.data, source) };
}

/** True for the background entry: named "background" or the plain id 0. */
function isBackground(name: string, value: z.infer<typeof LabelValueSchema>): boolean {
  return name === "background" || value === 0;
}

/** The object order rule shared with the Python training package. */
export function planObjects(
  dataset: Pick<DatasetJson, "labels" | "instance_labels">,
  source?: string,
): ObjectPlan {
  const foreground = Object.entries(dataset.labels).filter(([name, value]) => !isBackground(name, value));
  if (foreground.length === 0) throw new DaftInputError("labels: no foreground label", source);
  if (dataset.instance_labels) {
    if (foreground.length !== 1) {
      throw new DaftInputError(
        `labels: instance_labels datasets need exactly one foreground entry, got ${foreground.map(([n]) => n).join(", ")}`,
        source,
      );
    }
    return { kind: "instance", instanceClass: foreground[0]![0] };
  }
  const regions: ObjectDefinition[] = [];
  const singles: ObjectDefinition[] = [];
  for (const [name, value] of foreground) {
    if (typeof value === "string") {
      throw new DaftInputError(
        `labels.${name}: must be a label id or a list of ids (text values need instance_labels: true)`,
        source,
      );
    }
    if (typeof value === "number") {
      singles.push({ name, labelIds: [value] });
      continue;
    }
    if (value.includes(0))
      throw new DaftInputError(`labels.${name}: a region must not include background id 0`, source);
    regions.push({ name, labelIds: [...new Set(value)] });
  }
  // Array.prototype.sort is stable: regions with equally many ids keep their dataset.json order.
  regions.sort((a, b) => b.labelIds.length - a.labelIds.length);
  return { kind: "semantic", definitions: [...regions, ...singles] };
}

/** The case id: the image file name without its folder and extension (".nii.gz" counts as one). */
export function caseIdOf(imagePath: string): string {
  const base = imagePath.split(/[\\/]/).pop() ?? imagePath;
  const lower = base.toLowerCase();
  if (lower.endsWith(".nii.gz")) return base.slice(0, -".nii.gz".length);
  const dot = base.lastIndexOf(".");
  return dot > 0 ? base.slice(0, dot) : base;
}

/** Challenge case name, e.g. "2DBox_Endoscopy_kvasir-seg_kvasir_0001". */
export function challengeCaseName(
  dataset: Pick<DatasetJson, "name" | "modality" | "dimension">,
  caseId: string,
): string {
  return `${dataset.dimension}DBox_${dataset.modality}_${dataset.name}_${caseId}`;
}
