/**
 * A folder of DICOM files with DICOM-SEG annotations (a PACS export, a TCIA collection, OHIF or Slicer exports)
 * as an importable dataset, for `daft data import` when the folder has no dataset.json: every SEG is one case, on
 * the series (anywhere below the folder) that holds the images its frames refer to. The dataset is named after the
 * folder, its modality comes from the series' Modality tag (CT, MR, PT → PET; or --modality), and its labels are
 * the SEGs' segments (segment number → Segment Label). Files are only read for their headers here; each case's
 * series is read again when it is imported, one case at a time.
 */
import { basename, join, relative } from "node:path";
import {
  checkDatasetJson,
  DaftInputError,
  DICOM_FILE_SUFFIX,
  type CaseEntry,
  type DatasetSpec,
} from "@daft/core";
import { commonFolder, scanDicomFolder, seriesFilesOf, seriesOfSeg } from "./dicomFolderScan.js";

export interface DicomSegDatasetCase {
  entry: CaseEntry;
  /** The series' image files (absolute paths). */
  seriesFiles: string[];
  /** The series' folder, relative to the dataset, for messages. */
  seriesName: string;
  segFile: string;
}

export interface DicomSegDataset {
  dataset: DatasetSpec;
  cases: DicomSegDatasetCase[];
  /** SEG files that refer to no series in the folder, and why. */
  unmatched: { file: string; problem: string }[];
}

/** DICOM Modality → the project's modality names. */
const MODALITY_NAMES: Record<string, string> = { CT: "CT", MR: "MR", PT: "PET", US: "US", MG: "Mammography" };

/** Undefined when the folder holds no DICOM-SEG (then it is not a DICOM-SEG dataset). */
export async function scanDicomSegDataset(
  datasetDir: string,
  shownDir: string,
  modality: string | undefined,
  /** Told the number of files before the scan; its `tick` after each file (a progress bar). */
  progress?: (files: number) => { tick(item: string): void },
): Promise<DicomSegDataset | undefined> {
  const { images, segs } = await scanDicomFolder(datasetDir, progress);
  if (segs.length === 0) return undefined;

  const seriesFiles = seriesFilesOf(images);
  const cases: DicomSegDatasetCase[] = [];
  const unmatched: DicomSegDataset["unmatched"] = [];
  const labels = new Map<number, string>();
  const modalities = new Set<string>();
  const ids = new Set<string>();
  for (const seg of segs.sort((a, b) => a.path.localeCompare(b.path))) {
    const series = seriesOfSeg(seg, images);
    if (!series) {
      unmatched.push({
        file: join(shownDir, relative(datasetDir, seg.path)),
        problem: `DICOM-SEG refers to ${seg.referenced.size} image(s), none of them in ${shownDir}`,
      });
      continue;
    }
    const files = seriesFiles.get(series)!;
    const dicomModality = [...images.values()].find((i) => i.seriesInstanceUID === series)?.modality;
    if (dicomModality) modalities.add(MODALITY_NAMES[dicomModality] ?? dicomModality);
    for (const { number, label } of seg.segments) {
      const name = label?.trim() || `segment ${number}`;
      const known = labels.get(number);
      labels.set(number, known === undefined || known === name ? name : `segment ${number}`);
    }
    const id = uniqueId(caseIdOf(seg.path), ids);
    const seriesName = join(shownDir, relative(datasetDir, commonFolder(files)));
    cases.push({
      entry: {
        id,
        image: relative(datasetDir, commonFolder(files)) || ".",
        label: relative(datasetDir, seg.path),
      },
      seriesFiles: files,
      seriesName,
      segFile: seg.path,
    });
  }
  if (cases.length === 0) {
    throw new DaftInputError(
      `holds ${segs.length} DICOM-SEG file(s) but none refers to a series in the folder (${unmatched[0]!.problem})`,
      shownDir,
    );
  }
  const datasetModality = modality ?? (modalities.size === 1 ? [...modalities][0]! : undefined);
  if (!datasetModality) {
    throw new DaftInputError(
      modalities.size === 0
        ? "a DICOM-SEG folder whose series carry no Modality: give --modality"
        : `a DICOM-SEG folder with series of several modalities (${[...modalities].join(", ")}): ` +
            "import one modality per folder, or give --modality",
      shownDir,
    );
  }
  const labelRecord: Record<string, number> = { background: 0 };
  for (const [number, name] of [...labels].sort((a, b) => a[0] - b[0])) {
    labelRecord[name in labelRecord ? `${name} (${number})` : name] = number;
  }
  const dataset = checkDatasetJson(
    {
      name: safeName(basename(datasetDir)),
      modality: safeName(datasetModality).replace(/_/g, "-"),
      dimension: 3,
      labels: labelRecord,
      cases: cases.map((c) => c.entry),
    },
    join(shownDir, "(DICOM-SEG dataset)"),
  );
  return { dataset, cases, unmatched };
}

/** The SEG file's name without a DICOM suffix, as a case id. */
function caseIdOf(path: string): string {
  return safeName(
    basename(path)
      .replace(DICOM_FILE_SUFFIX, "")
      .replace(/\.seg$/i, ""),
  );
}

function safeName(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[^A-Za-z0-9]+/, "");
  return cleaned || "case";
}

function uniqueId(id: string, taken: Set<string>): string {
  let unique = id;
  for (let n = 2; taken.has(unique); n++) unique = `${id}-${n}`;
  taken.add(unique);
  return unique;
}
