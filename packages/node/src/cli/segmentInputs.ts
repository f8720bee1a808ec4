/**
 * What `daft segment` reads: files (.npz, NIfTI, NRRD, MetaImage, DICOM, pictures) and folders. A folder contributes its case files
 * by extension, itself as one DICOM series when it holds DICOM files (found by the "DICM" marker, any name), and
 * each direct subfolder that holds DICOM files as a series.
 */
import { open, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { readFileBytes } from "../io/fileBytes.js";
import type { DicomFileBytes } from "@daft/core";
import { folderEntries } from "../io/folderEntries.js";

export interface InputRef {
  /** The file, or the folder of a DICOM series. */
  path: string;
  kind: "file" | "dicom-folder";
  /** Case name: the file's or the folder's base name (routing by file name, timings.csv). */
  name: string;
}

const CASE_FILE = /\.(npz|nii|nii\.gz|nrrd|nhdr|mha|mhd|png|jpe?g|tiff?|bmp)$/i;
const DICOM_FILE = /\.(dcm|dicom|ima)$/i;
const KNOWN_SUFFIX = /\.(npz|nii\.gz|nii|nrrd|nhdr|mha|mhd|png|jpe?g|tiff?|bmp|dcm|dicom|ima)$/i;

export const FOLDER_CONTENTS =
  ".npz, .nii, .nii.gz, .nrrd, .mha, PNG/JPEG/TIFF/BMP files or DICOM files (a series, here or in subfolders)";

export async function listInputs(paths: string[]): Promise<InputRef[]> {
  const out: InputRef[] = [];
  for (const p of paths) {
    let s;
    try {
      s = await stat(p);
    } catch {
      throw new Error(`${p}: no such file or folder`);
    }
    if (!s.isDirectory()) {
      out.push({ path: p, kind: "file", name: basename(p) });
      continue;
    }
    const found = await scanFolder(p);
    if (found.length === 0) throw new Error(`${p}: folder holds no cases (${FOLDER_CONTENTS})`);
    out.push(...found);
  }
  return out;
}

async function scanFolder(folder: string): Promise<InputRef[]> {
  const entries = (await folderEntries(folder))
    .filter((e) => !e.name.startsWith("."))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const cases: InputRef[] = [];
  const series: InputRef[] = [];
  if (await holdsDicom(folder, entries))
    series.push({ path: folder, kind: "dicom-folder", name: basename(folder) });
  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isFile() && CASE_FILE.test(entry.name)) {
      cases.push({ path, kind: "file", name: entry.name });
    } else if (entry.isDirectory()) {
      const inner = (await folderEntries(path)).filter((e) => !e.name.startsWith("."));
      if (await holdsDicom(path, inner)) series.push({ path, kind: "dicom-folder", name: entry.name });
    }
  }
  return [...cases, ...series];
}

async function holdsDicom(folder: string, entries: { name: string; isFile(): boolean }[]): Promise<boolean> {
  for (const entry of entries) {
    if (!entry.isFile() || CASE_FILE.test(entry.name)) continue;
    if (DICOM_FILE.test(entry.name) || (await startsLikeDicom(join(folder, entry.name)))) return true;
  }
  return false;
}

/** "DICM" at byte 128 (DICOM Part 10). */
export async function startsLikeDicom(path: string): Promise<boolean> {
  const handle = await open(path, "r");
  try {
    const head = Buffer.alloc(132);
    const { bytesRead } = await handle.read(head, 0, 132, 0);
    return bytesRead === 132 && head.toString("latin1", 128, 132) === "DICM";
  } finally {
    await handle.close();
  }
}

/**
 * Every DICOM file of a series folder: files named .dcm/.dicom/.ima (a damaged one is reported, not skipped) and
 * files of any other name that start like DICOM; notes, thumbnails and case files are left out.
 */
export async function readDicomFolder(folder: string): Promise<DicomFileBytes[]> {
  const names = (await folderEntries(folder))
    .filter((e) => e.isFile() && !e.name.startsWith(".") && !CASE_FILE.test(e.name))
    .map((e) => e.name)
    .sort();
  const files: DicomFileBytes[] = [];
  for (const name of names) {
    const path = join(folder, name);
    if (!DICOM_FILE.test(name) && !(await startsLikeDicom(path))) continue;
    files.push({ name: path, bytes: await readFileBytes(path) });
  }
  return files;
}

/** A DICOM series folder, or a file named like DICOM or starting like it ("DICM" at byte 128). */
export async function looksLikeDicom(input: InputRef): Promise<boolean> {
  if (input.kind === "dicom-folder" || DICOM_FILE.test(input.name)) return true;
  try {
    return await startsLikeDicom(input.path);
  } catch {
    return false;
  }
}

/** The input's name without its format suffix: "ct.nii.gz" → "ct", "IMG0001.dcm" → "IMG0001", a folder → its name. */
export function stemOf(input: InputRef): string {
  return input.kind === "dicom-folder" ? input.name : input.name.replace(KNOWN_SUFFIX, "");
}

/**
 * The label map's file name for an input, the same for `daft segment` and `daft serve`: an .npz case keeps its
 * name (its 'segs' replace the inputs), anything else is its stem + the output's extension ("ct.nii.gz" →
 * "ct.nii.gz", "scan.nrrd" → "scan.nrrd", "ct.mha" → "ct.mha", "photo.jpg" → "photo.png", a DICOM series folder → "<folder>.nii.gz").
 */
export function labelMapFileName(
  input: InputRef,
  output: { format: "npz" | "study"; extension: string },
): string {
  return `${input.kind === "file" && output.format === "npz" ? input.name : stemOf(input)}${output.extension}`;
}

/** The DICOM-SEG's file name for a DICOM input: its stem + ".seg.dcm" ("IMG0001.dcm" → "IMG0001.seg.dcm"). */
export function dicomSegFileName(input: InputRef): string {
  return `${stemOf(input)}.seg.dcm`;
}
