/**
 * The DICOM files of a folder tree sorted by what they are, from their headers only: the images of each series
 * (by SOP Instance UID) and the DICOM-SEG files, with the images each SEG's frames refer to. Shared by
 * `daft data import` (a DICOM + DICOM-SEG dataset folder) and `daft eval --dicom` (the series SEGs are read onto).
 */
import { open, readdir } from "node:fs/promises";
import { basename, dirname, join, sep } from "node:path";
import { readDicom, SEGMENTATION_STORAGE } from "@daft/core";
import { readFileBytes } from "../io/fileBytes.js";

/** One image with pixel data, as its header names it. */
export interface DicomImageHeader {
  path: string;
  sopInstanceUID: string;
  seriesInstanceUID: string;
  modality?: string;
}

/** One DICOM Segmentation file: the SOP Instance UIDs its frames' source images have, and its segments. */
export interface DicomSegHeader {
  path: string;
  referenced: Set<string>;
  segments: { number: number; label?: string }[];
}

export type DicomFileHeader =
  { kind: "seg"; seg: DicomSegHeader } | { kind: "image"; image: DicomImageHeader };

export interface DicomFolderScan {
  /** SOP Instance UID → image. */
  images: Map<string, DicomImageHeader>;
  segs: DicomSegHeader[];
}

/** The 128-byte preamble and "DICM" that open a DICOM Part 10 file. */
const PART10_PREFIX = 132;

/**
 * What the DICOM file at `path` is: a SEG, an image with pixel data, or (undefined) neither — not a DICOM Part 10
 * file (told from its first 132 bytes, without reading the rest), unreadable, or another kind of object.
 */
export async function readDicomFileHeader(path: string): Promise<DicomFileHeader | undefined> {
  if (!(await hasPart10Prefix(path))) return undefined;
  let file;
  try {
    file = readDicom(await readFileBytes(path), path);
  } catch {
    return undefined; // an unreadable file is reported if something needs it
  }
  const t = file.tags;
  if ((file.mediaStorageSOPClassUID ?? t.sopClassUID) === SEGMENTATION_STORAGE) {
    const referenced = new Set(
      (t.perFrameFunctionalGroups ?? []).flatMap((g) =>
        g.referencedSOPInstanceUID ? [g.referencedSOPInstanceUID] : [],
      ),
    );
    return { kind: "seg", seg: { path, referenced, segments: t.segments ?? [] } };
  }
  if (t.sopInstanceUID && t.seriesInstanceUID && file.pixelData) {
    return {
      kind: "image",
      image: {
        path,
        sopInstanceUID: t.sopInstanceUID,
        seriesInstanceUID: t.seriesInstanceUID,
        ...(t.modality ? { modality: t.modality } : {}),
      },
    };
  }
  return undefined;
}

/** Every DICOM image and SEG below `dir`; `progress` is told the number of files, then ticked after each. */
export async function scanDicomFolder(
  dir: string,
  progress?: (files: number) => { tick(item: string): void },
): Promise<DicomFolderScan> {
  const images = new Map<string, DicomImageHeader>();
  const segs: DicomSegHeader[] = [];
  const paths = await filesBelow(dir);
  const bar = paths.length > 0 ? progress?.(paths.length) : undefined;
  for (const path of paths) {
    bar?.tick(basename(path));
    const header = await readDicomFileHeader(path);
    if (header?.kind === "seg") segs.push(header.seg);
    else if (header?.kind === "image") images.set(header.image.sopInstanceUID, header.image);
  }
  return { images, segs };
}

/** The series (Series Instance UID) holding the first image a SEG refers to that `images` holds. */
export function seriesOfSeg(seg: DicomSegHeader, images: Map<string, DicomImageHeader>): string | undefined {
  for (const uid of seg.referenced) {
    const series = images.get(uid)?.seriesInstanceUID;
    if (series !== undefined) return series;
  }
  return undefined;
}

/** Series Instance UID → the paths of its images, sorted. */
export function seriesFilesOf(images: Map<string, DicomImageHeader>): Map<string, string[]> {
  const files = new Map<string, string[]>();
  for (const image of images.values()) {
    const list = files.get(image.seriesInstanceUID);
    if (list) list.push(image.path);
    else files.set(image.seriesInstanceUID, [image.path]);
  }
  for (const list of files.values()) list.sort();
  return files;
}

/** The deepest folder holding all of `files` (absolute paths). */
export function commonFolder(files: readonly string[]): string {
  const parts = files.map((f) => dirname(f).split(sep));
  const first = parts[0] ?? [];
  let n = 0;
  while (n < first.length && parts.every((p) => p[n] === first[n])) n++;
  return first.slice(0, n).join(sep);
}

/** Every file below `dir` (hidden files and folders skipped). */
async function filesBelow(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesBelow(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** Whether the file opens with the Part 10 preamble and "DICM" (false for a file that cannot be read). */
async function hasPart10Prefix(path: string): Promise<boolean> {
  const handle = await open(path, "r").catch(() => undefined);
  if (!handle) return false;
  try {
    const prefix = new Uint8Array(PART10_PREFIX);
    const { bytesRead } = await handle.read(prefix, 0, PART10_PREFIX, 0);
    return bytesRead === PART10_PREFIX && String.fromCharCode(...prefix.subarray(128)) === "DICM";
  } finally {
    await handle.close();
  }
}
