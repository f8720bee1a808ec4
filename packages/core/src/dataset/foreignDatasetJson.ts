/**
 * The dataset.json of the Medical Segmentation Decathlon (MSD, nnU-Net v1) and of nnU-Net v2, turned into DAFT's
 * own dataset.json (name, modality, dimension, labels, cases; datasetJson.ts), so `daft data import` takes a
 * downloaded Decathlon task or an nnU-Net raw dataset folder as it is.
 *
 *  - MSD: `training` lists the cases ({image, label}, paths relative to the folder, "./" allowed); `modality`
 *    maps channel ids to names ({"0": "MRI"}); `labels` maps ids to names ({"0": "background", "1": "Anterior"});
 *    `tensorImageSize` "3D" (a "4D" image has several channels and is refused).
 *  - nnU-Net v2: `channel_names` ({"0": "CT"}), `labels` maps names to an id or a region (a list of ids),
 *    `file_ending`; the cases are the files imagesTr/<case>_0000<file_ending> with labelsTr/<case><file_ending>.
 *    With several channels only channel 0000 is imported (a note says so); the "ignore" label is dropped.
 *
 * The foundation modality comes from the first channel's name (CT, MRI/T1/T2/FLAIR/ADC/… → MR, PET, US, …) or
 * from the caller (--modality), which wins; a name that says nothing (nnU-Net's "noNorm", "zscore") needs it.
 */
import { DaftInputError } from "../errors.js";

export type DatasetLayout = "daft" | "msd" | "nnunet-v2";

export interface ForeignDatasetContext {
  /** The dataset folder's name: the dataset's name when dataset.json has none. */
  folderName: string;
  /** File names (not paths) in a subfolder of the dataset folder; [] when it does not exist. */
  listFiles(subfolder: string): string[];
  /** --modality: overrides the channel name. */
  modality?: string | undefined;
  /** The dimension of the first image file (read by the caller), for layouts that do not state it. */
  probeDimension(imagePath: string): 2 | 3;
}

export interface NormalisedDatasetJson {
  layout: DatasetLayout;
  /** DAFT's dataset.json fields, to be checked by parseDatasetJson like any other. */
  json: unknown;
  /** One-line remarks for the user (channels left out, labels dropped). */
  notes: string[];
}

const PICTURE_ENDING = /\.(png|jpe?g|tiff?|bmp)$/i;

/** Channel names → DAFT's foundation modalities. */
const MODALITY_OF_CHANNEL: [RegExp, string][] = [
  [/^(ct|cta|cect|nect)\b/i, "CT"],
  [/^(mri?|t1|t1w|t1c|t1gd|t1ce|t2|t2w|flair|adc|dwi|pd|pdw|mprage|swi|bold|cmr|mra|hbv|dce)\b/i, "MR"],
  [/^pet\b/i, "PET"],
  [/^(us|ultrasound|echo)\b/i, "US"],
  [/^(x-?ray|cxr|radiograph)/i, "XRay"],
  [/^(mammo|mammography|mg)\b/i, "Mammography"],
  [/^oct\b/i, "OCT"],
  [/^(endoscopy|colonoscopy)\b/i, "Endoscopy"],
  [/^(dermoscopy|dermatoscopy)\b/i, "Dermoscopy"],
  [/^fundus\b/i, "Fundus"],
  [/^(microscopy|histology|fluorescence)\b/i, "Microscopy"],
];

export function modalityOfChannel(name: string): string | undefined {
  return MODALITY_OF_CHANNEL.find(([pattern]) => pattern.test(name.trim()))?.[1];
}

/** A name usable in file names: letters, digits, '.', '_' or '-'. */
function fileNamePart(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[^A-Za-z0-9]+/, "");
  return cleaned || "dataset";
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

export function datasetLayout(raw: unknown): DatasetLayout {
  const json = record(raw);
  if (!json || "cases" in json) return "daft";
  if (Array.isArray(json["training"])) return "msd";
  if ("channel_names" in json && "file_ending" in json) return "nnunet-v2";
  return "daft";
}

/** DAFT's dataset.json is returned as it is; MSD and nnU-Net v2 are converted. */
export function normaliseDatasetJson(
  raw: unknown,
  context: ForeignDatasetContext,
  source: string,
): NormalisedDatasetJson {
  const layout = datasetLayout(raw);
  if (layout === "daft") return { layout, json: raw, notes: [] };
  const json = record(raw)!;
  const fail = (problem: string): never => {
    throw new DaftInputError(problem, source);
  };
  const notes: string[] = [];
  const channels = record(layout === "msd" ? json["modality"] : json["channel_names"]);
  const channelNames = channels ? Object.entries(channels).sort(([a], [b]) => Number(a) - Number(b)) : [];
  const field = layout === "msd" ? "modality" : "channel_names";
  if (channelNames.length === 0 && !context.modality) fail(`${field}: no channel is named; give --modality`);
  const first = String(channelNames[0]?.[1] ?? "");
  const modality = context.modality ?? modalityOfChannel(first);
  if (!modality) {
    fail(
      `${field}: cannot tell the imaging modality from channel name "${first}"; give --modality (CT, MR, US, …)`,
    );
  }
  if (channelNames.length > 1) {
    if (layout === "msd") {
      fail(
        `${field}: ${channelNames.length} channels (${channelNames.map(([, n]) => n).join(", ")}) in one 4D image; ` +
          "DAFT imports single-channel images (save one channel per file as nnU-Net v2 does)",
      );
    }
    notes.push(
      `${channelNames.length} channels (${channelNames.map(([id, n]) => `${id.padStart(4, "0")} ${n}`).join(", ")}); ` +
        `imports channel 0000 (${first}) only`,
    );
  }
  const name = fileNamePart(typeof json["name"] === "string" ? json["name"] : context.folderName);
  if (layout === "msd") {
    if (json["tensorImageSize"] === "4D")
      fail("tensorImageSize: 4D images (several channels) are not imported");
    const labels = record(json["labels"]) ?? fail("labels: expected an object of id → name");
    const byName: Record<string, number> = {};
    for (const [id, labelName] of Object.entries(labels)) {
      if (!/^\d+$/.test(id)) fail(`labels: "${id}" is not a label id`);
      byName[String(labelName)] = Number(id);
    }
    const cases = (json["training"] as unknown[]).map((entry, i) => {
      const item = record(entry);
      const image = item?.["image"];
      const label = item?.["label"];
      if (typeof image !== "string" || typeof label !== "string") {
        fail(`training.${i}: expected {"image": path, "label": path}`);
      }
      return { image: stripDotSlash(image as string), label: stripDotSlash(label as string) };
    });
    if (cases.length === 0) fail("training: no cases");
    const dimension = json["tensorImageSize"] === "2D" ? 2 : 3;
    return { layout, json: { name, modality, dimension, labels: byName, cases }, notes };
  }
  // nnU-Net v2
  const ending = json["file_ending"];
  if (typeof ending !== "string" || !ending.startsWith("."))
    fail('file_ending: expected a file ending such as ".nii.gz"');
  const labels = { ...(record(json["labels"]) ?? fail("labels: expected an object of name → id or ids")) };
  if ("ignore" in labels) {
    delete labels["ignore"];
    notes.push('the "ignore" label is not an object: dropped');
  }
  const suffix = `_0000${ending}`;
  const labelFiles = new Set(context.listFiles("labelsTr"));
  const cases = context
    .listFiles("imagesTr")
    .filter((file) => file.endsWith(suffix))
    .sort()
    .map((file) => file.slice(0, -suffix.length))
    .filter((caseId) => {
      if (labelFiles.has(`${caseId}${ending}`)) return true;
      notes.push(`imagesTr/${caseId}${suffix} has no labelsTr/${caseId}${ending}: left out`);
      return false;
    })
    .map((caseId) => ({
      id: caseId,
      image: `imagesTr/${caseId}${suffix}`,
      label: `labelsTr/${caseId}${ending}`,
    }));
  if (cases.length === 0) fail(`imagesTr: no <case>${suffix} file with a label in labelsTr`);
  const dimension = PICTURE_ENDING.test(ending as string) ? 2 : context.probeDimension(cases[0]!.image);
  return { layout, json: { name, modality, dimension, labels, cases }, notes };
}

function stripDotSlash(path: string): string {
  return path.replace(/^(\.\/)+/, "");
}
