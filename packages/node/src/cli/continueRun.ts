/**
 * `daft segment --continue` (nnU-Net's `--continue_prediction`): a long folder run that was stopped — Ctrl+C, a
 * closed laptop lid, a crash — picks up where it was. An input whose every requested output is already in the output
 * folder, and no older than the input, is not segmented again, and its row of the earlier timings.csv is kept.
 * Outputs are written atomically (temporary file + rename), so a file that exists is whole.
 *
 * The output names are predicted from the input's name. `daft segment` finds formats from the content, so an input
 * whose name does not say what it is (a DICOM file without a suffix, a NIfTI named `.nii.gz` but not gzipped) may
 * predict a name that is never written; such an input is simply segmented again. What `--continue` cannot see is a
 * change of models, boxes or options between the runs: it trusts the files it finds.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { folderEntries } from "../io/folderEntries.js";
import { dicomSegFileName, stemOf, type InputRef } from "./segmentInputs.js";

/** What the run writes for each input besides its label map. */
export interface RequestedOutputs {
  outDir: string;
  dicomSeg: boolean;
  slicerSeg: boolean;
  /** The overlay picture's path for an input, when the run draws overlays. */
  overlayOf?: (input: InputRef) => string;
}

/** The label map's extension for an input's name, as segmentInput writes it for that format (see studyLabels.ts). */
const LABEL_MAP_EXTENSIONS: [RegExp, string][] = [
  [/\.nii\.gz$/i, ".nii.gz"],
  [/\.nii$/i, ".nii"],
  [/\.nrrd$/i, ".nrrd"],
  [/\.mha$/i, ".mha"],
  [/\.(png|jpe?g|tiff?|bmp)$/i, ".png"],
  [/\.(dcm|dicom|ima)$/i, ".nii.gz"],
];

/** Every file the run would write for `input`, or undefined when its name does not tell (always segmented). */
export function expectedOutputPaths(input: InputRef, requested: RequestedOutputs): string[] | undefined {
  const labelMap = predictedLabelMapName(input);
  if (labelMap === undefined) return undefined;
  const paths = [join(requested.outDir, labelMap)];
  if (requested.dicomSeg) paths.push(join(requested.outDir, dicomSegFileName(input)));
  if (requested.slicerSeg) paths.push(join(requested.outDir, `${stemOf(input)}.seg.nrrd`));
  if (requested.overlayOf) paths.push(requested.overlayOf(input));
  return paths;
}

function predictedLabelMapName(input: InputRef): string | undefined {
  if (input.kind === "dicom-folder") return `${input.name}.nii.gz`;
  if (/\.npz$/i.test(input.name)) return input.name;
  const extension = LABEL_MAP_EXTENSIONS.find(([suffix]) => suffix.test(input.name))?.[1];
  return extension === undefined ? undefined : `${stemOf(input)}${extension}`;
}

/** True when every path exists and none is older than the input (for a DICOM folder: its newest file). */
export async function outputsAreCurrent(input: InputRef, paths: string[]): Promise<boolean> {
  const inputTime = await newestModification(input);
  for (const path of paths) {
    const written = await stat(path).catch(() => undefined);
    if (!written?.isFile() || written.mtimeMs < inputTime) return false;
  }
  return true;
}

async function newestModification(input: InputRef): Promise<number> {
  if (input.kind === "file") return (await stat(input.path)).mtimeMs;
  let newest = (await stat(input.path)).mtimeMs;
  for (const entry of await folderEntries(input.path)) {
    if (entry.isFile()) newest = Math.max(newest, (await stat(join(input.path, entry.name))).mtimeMs);
  }
  return newest;
}

/**
 * An earlier run's CSV rows by case (its first column; names may hold commas, so rows are matched on `<name>,`),
 * when the file has the header this run writes; none otherwise (another version, or no file). timings.csv has one
 * row per case, objects.csv one per box.
 */
export class EarlierRows {
  private readonly rows: string[];

  constructor(text: string | undefined, header: string) {
    const lines = text?.split("\n").filter((line) => line.length > 0) ?? [];
    this.rows = lines[0] === header ? lines.slice(1) : [];
  }

  rowsOf(caseName: string): string[] {
    return this.rows.filter((row) => row.startsWith(`${caseName},`));
  }
}
