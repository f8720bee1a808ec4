/**
 * What `daft eval` reads from its folders: each folder's case files by case key (caseKeyOf) — label maps and
 * DICOM-SEGs — with the pred SEGs that pair with a gt SEG by series rather than by name moved to its key, and the
 * reading of a case's file: a label map, or a DICOM-SEG onto its series below --dicom (evalDicomSeg.ts).
 */
import { basename, join, resolve } from "node:path";
import {
  caseKeyOf,
  LABEL_MAP_FILE,
  readLabelMapFile,
  type LabelMapArray,
  type LabelMapRole,
  type Study,
} from "@daft/core";
import { readFileBytes } from "../io/fileBytes.js";
import { folderEntries } from "../io/folderEntries.js";
import type { DicomSegHeader } from "./dicomFolderScan.js";
import {
  findDicomSegs,
  openDicomSegReader,
  pairBySeries,
  READER_WITHOUT_SERIES,
  type DicomSegReader,
} from "./evalDicomSeg.js";
import { Progress } from "./progress.js";

export interface EvalFolders {
  predDir: string;
  gtDir: string;
  /** Where the series of the DICOM-SEGs are (--dicom). */
  dicomDir?: string;
  /** No progress bar while the --dicom folder is scanned. */
  quiet: boolean;
}

/** Reads a case's files by name: a label map, or a DICOM-SEG onto its series. */
export interface CaseReader {
  groundTruth(name: string): Promise<LabelMapArray>;
  prediction(name: string): Promise<LabelMapArray>;
  /** The DICOM series a case's DICOM-SEG lies on (ground truth's, else the prediction's), pixels decoded. */
  seriesOf(gtName: string, predName: string | undefined): Promise<Study> | undefined;
}

export interface EvalInputs {
  gt: FolderCases;
  pred: FolderCases;
  /** The pred and gt SEGs paired by series (named differently), for the report. */
  pairedBySeries: { prediction: string; groundTruth: string }[];
  read: CaseReader;
}

/** A folder's case files: label maps and DICOM-SEGs. */
export interface FolderCases {
  /** Case key (caseKeyOf) → file name. */
  byKey: Map<string, string>;
  /** The DICOM-SEGs among them by file name (findDicomSegs). */
  segs: Map<string, DicomSegHeader | undefined>;
}

/** The folders' case files, paired; an Error whose message is one line for a folder that cannot be read. */
export async function openEvalInputs(folders: EvalFolders): Promise<EvalInputs> {
  const { gtDir, predDir } = folders;
  const [gt, pred] = await Promise.all([listCaseFiles(gtDir), listCaseFiles(predDir)]);
  const segReader = await dicomSegReaderFor(gt, pred, folders);
  const pairedBySeries = pairSegsBySeries(gt, pred, segReader);
  const readCaseFile = async (dir: string, folder: FolderCases, name: string, role: LabelMapRole) => {
    const file = join(dir, name);
    return folder.segs.has(name)
      ? segReader.read(file, folder.segs.get(name))
      : readLabelMapFile(await readFileBytes(file), file, role);
  };
  return {
    gt,
    pred,
    pairedBySeries,
    read: {
      groundTruth: (name) => readCaseFile(gtDir, gt, name, "ground truth"),
      prediction: (name) => readCaseFile(predDir, pred, name, "prediction"),
      seriesOf: (gtName, predName) => {
        if (gt.segs.has(gtName)) return segReader.series(join(gtDir, gtName), gt.segs.get(gtName));
        if (predName !== undefined && pred.segs.has(predName))
          return segReader.series(join(predDir, predName), pred.segs.get(predName));
        return undefined;
      },
    },
  };
}

/** The label maps and DICOM-SEG files of a folder by case key; two files with one key are an error. */
async function listCaseFiles(dir: string): Promise<FolderCases> {
  let entries;
  try {
    entries = await folderEntries(dir);
  } catch (e) {
    throw new Error(folderProblem(dir, e));
  }
  const files = entries.filter((e) => e.isFile()).map((e) => e.name);
  const segs = await findDicomSegs(
    dir,
    files.filter((name) => !LABEL_MAP_FILE.test(name)),
  );
  const names = [...files.filter((name) => LABEL_MAP_FILE.test(name)), ...segs.keys()].sort();
  const byKey = new Map<string, string>();
  for (const name of names) {
    const key = caseKeyOf(name);
    const other = byKey.get(key);
    if (other !== undefined) {
      throw new Error(
        `${join(dir, name)}: the same case as ${other} (one label map per case); move one away`,
      );
    }
    byKey.set(key, name);
  }
  return { byKey, segs };
}

function folderProblem(dir: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return `${dir}: ${code === "ENOENT" ? "no such folder" : code === "ENOTDIR" ? "not a folder" : (e as Error).message}`;
}

/** The series below --dicom when a folder holds a DICOM-SEG; without --dicom, a reader that refuses every SEG. */
async function dicomSegReaderFor(
  gt: FolderCases,
  pred: FolderCases,
  folders: EvalFolders,
): Promise<DicomSegReader> {
  const dicomDir = folders.dicomDir;
  if (dicomDir === undefined) return READER_WITHOUT_SERIES;
  if (gt.segs.size === 0 && pred.segs.size === 0) {
    process.stderr.write(
      `${dicomDir}: warning: no DICOM-SEG in the pred or gt folder; --dicom is not read\n`,
    );
    return READER_WITHOUT_SERIES;
  }
  try {
    return await openDicomSegReader(
      dicomDir,
      (files) =>
        new Progress(
          files,
          `${basename(resolve(dicomDir))}: reading DICOM headers`,
          process.stderr,
          !folders.quiet,
        ),
    );
  } catch (e) {
    throw new Error(folderProblem(dicomDir, e));
  }
}

/**
 * A pred SEG and a gt SEG that did not pair by name but lie on the same series pair (pairBySeries): the pred file
 * moves to the gt's case key. Returns the pairs made, for the report.
 */
function pairSegsBySeries(
  gt: FolderCases,
  pred: FolderCases,
  reader: DicomSegReader,
): { prediction: string; groundTruth: string }[] {
  const unpairedSegSeries = (own: FolderCases, other: FolderCases) => {
    const series = new Map<string, string>();
    for (const [key, name] of own.byKey) {
      const header = own.segs.get(name);
      const uid = header && !other.byKey.has(key) ? reader.seriesOf(header) : undefined;
      if (uid !== undefined) series.set(key, uid);
    }
    return series;
  };
  const pairs = pairBySeries(unpairedSegSeries(gt, pred), unpairedSegSeries(pred, gt));
  return [...pairs].map(([predKey, gtKey]) => {
    const name = pred.byKey.get(predKey)!;
    pred.byKey.delete(predKey);
    pred.byKey.set(gtKey, name);
    return { prediction: name, groundTruth: gt.byKey.get(gtKey)! };
  });
}
