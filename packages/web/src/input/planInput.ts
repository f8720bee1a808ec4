/**
 * Which files the user opened become one input, as `daft segment` reads a path: one case file (.npz, NIfTI, NRRD, MetaImage,
 * picture, single DICOM), or the DICOM files of one series (a folder picked with the folder picker, dropped, or
 * several files selected together). Hidden files and stray case files in a DICOM folder are left out, like
 * the CLI's readDicomFolder.
 */
import { DaftInputError } from "@daft/core";

/** A chosen file: its path relative to what was picked ("series/IM0001.dcm" or just "IM0001.dcm"). */
export interface PickedFile {
  path: string;
}

export type InputPlan =
  | { kind: "file"; index: number; name: string }
  /** `name` is the series folder's name (the CLI's case name for a DICOM folder). */
  | { kind: "dicom-series"; indices: number[]; name: string };

const CASE_FILE = /\.(npz|nii|nii\.gz|nrrd|nhdr|mha|mhd|png|jpe?g|tiff?|bmp)$/i;

export function baseName(path: string): string {
  return path.split("/").pop() ?? path;
}

function folderOf(path: string): string {
  const parts = path.split("/");
  return parts.length > 1 ? parts.slice(0, -1).join("/") : "";
}

export function planInput(files: readonly PickedFile[]): InputPlan {
  const visible = files
    .map((file, index) => ({ path: file.path, index, name: baseName(file.path) }))
    .filter((f) => !f.name.startsWith(".") && !f.path.split("/").some((part) => part.startsWith(".")));
  if (visible.length === 0) throw new DaftInputError("no files to open (only hidden files were given)");
  if (visible.length === 1) return { kind: "file", index: visible[0]!.index, name: visible[0]!.name };
  const dicom = visible.filter((f) => !CASE_FILE.test(f.name));
  if (dicom.length === 0) {
    throw new DaftInputError(
      `${visible.length} images were given (${visible
        .slice(0, 3)
        .map((f) => f.name)
        .join(", ")}…); open one at a time, or the files of one DICOM series`,
    );
  }
  const folders = [...new Set(dicom.map((f) => folderOf(f.path)))];
  if (folders.length > 1) {
    throw new DaftInputError(
      `the files come from ${folders.length} folders (${folders.slice(0, 3).join(", ")}); open one DICOM series at a time`,
    );
  }
  const folder = folders[0]!;
  return {
    kind: "dicom-series",
    indices: dicom.map((f) => f.index).sort((a, b) => (files[a]!.path < files[b]!.path ? -1 : 1)),
    name: folder ? baseName(folder) : "dicom-series",
  };
}
