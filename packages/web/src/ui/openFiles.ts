/**
 * Files from the pickers or a drop, with their relative paths (a dropped or picked folder keeps
 * "folder/file" paths), read into the InputBytes segmentInput takes. In a DICOM series, files that are neither named
 * .dcm/.dicom/.ima nor start like DICOM are left out, as the CLI's readDicomFolder does.
 */
import { isDicomPart10, type InputBytes } from "@daft/core";
import { planInput, type InputPlan } from "../input/planInput.js";

export interface PickedFileEntry {
  path: string;
  file: File;
}

export interface OpenedInput {
  input: InputBytes;
  plan: InputPlan;
  /** The files to send to the local server. */
  files: File[];
}

const DICOM_NAME = /\.(dcm|dicom|ima)$/i;

export async function readPicked(entries: readonly PickedFileEntry[]): Promise<OpenedInput> {
  const plan = planInput(entries);
  if (plan.kind === "file") {
    const { file } = entries[plan.index]!;
    return {
      plan,
      files: [file],
      input: { kind: "file", name: plan.name, bytes: new Uint8Array(await file.arrayBuffer()) },
    };
  }
  const dicom: { name: string; bytes: Uint8Array; file: File }[] = [];
  for (const index of plan.indices) {
    const { path, file } = entries[index]!;
    const bytes = new Uint8Array(await file.arrayBuffer());
    if (DICOM_NAME.test(path) || isDicomPart10(bytes)) dicom.push({ name: path, bytes, file });
  }
  return {
    plan,
    files: dicom.map((d) => d.file),
    input: {
      kind: "dicom-series",
      name: plan.name,
      files: dicom.map(({ name, bytes }) => ({ name, bytes })),
    },
  };
}

/** Files of an <input type=file> (webkitRelativePath is set for a picked folder). */
export function entriesOfInput(input: HTMLInputElement): PickedFileEntry[] {
  return Array.from(input.files ?? [], (file) => ({ path: file.webkitRelativePath || file.name, file }));
}

/** Files of a drop, walking dropped folders. */
export async function entriesOfDrop(data: DataTransfer): Promise<PickedFileEntry[]> {
  const roots = Array.from(data.items, (item) => item.webkitGetAsEntry()).filter(
    (e): e is FileSystemEntry => !!e,
  );
  if (roots.length === 0) return Array.from(data.files, (file) => ({ path: file.name, file }));
  const out: PickedFileEntry[] = [];
  for (const root of roots) await walk(root, "", out);
  return out;
}

async function walk(entry: FileSystemEntry, prefix: string, out: PickedFileEntry[]): Promise<void> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) =>
      (entry as FileSystemFileEntry).file(resolve, reject),
    );
    out.push({ path, file });
    return;
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
      reader.readEntries(resolve, reject),
    );
    if (batch.length === 0) break;
    for (const child of batch) await walk(child, path, out);
  }
}
