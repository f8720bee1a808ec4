/**
 * `daft segment --boxes-from <label map | folder>`: the box prompts of each input come from an existing
 * segmentation — one box per label (core prompts/labelMapBoxes.ts). A file prompts the one input given; a folder
 * holds one label map per input, paired by name as `daft eval` pairs files (caseKeyOf: "ct_0000.nii.gz" and
 * "ct.seg.nrrd" pair with "ct.nii.gz"; a DICOM series folder pairs with a label map named after the folder). A
 * DICOM-SEG (`series.seg.dcm`, an OHIF or Slicer export) is read onto the input's series by the core.
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  caseKeyOf,
  DaftInputError,
  DICOM_FILE_SUFFIX,
  isDicomPart10,
  LABEL_MAP_FILE,
  readDicom,
  readLabelMapForBoxes,
  SEGMENTATION_STORAGE,
  type BoxPrompts,
} from "@daft/core";
import { readFileBytes } from "../io/fileBytes.js";
import { stemOf, type InputRef } from "./segmentInputs.js";

export interface BoxesFromSource {
  /** The label map for one input, as prompts; a DaftInputError when there is none or it cannot be read. */
  promptsFor(input: InputRef): Promise<BoxPrompts>;
}

export async function openBoxesFrom(path: string, inputs: readonly InputRef[]): Promise<BoxesFromSource> {
  const info = await stat(path).catch(() => {
    throw new DaftInputError("--boxes-from: no such file or folder", path);
  });
  const read = async (file: string): Promise<BoxPrompts> => {
    const bytes = await readFileBytes(file);
    const dicom = isDicomPart10(bytes) ? readDicom(bytes, file) : undefined;
    if (dicom && (dicom.mediaStorageSOPClassUID ?? dicom.tags.sopClassUID) !== SEGMENTATION_STORAGE)
      throw new DaftInputError(
        "is a DICOM file but not a DICOM-SEG; boxes come from a SEG or a label map",
        file,
      );
    return dicom
      ? { boxes: [], world: false, fromDicomSeg: { seg: dicom, file } }
      : { boxes: [], world: false, fromLabelMap: { map: await readLabelMapForBoxes(bytes, file), file } };
  };
  if (!info.isDirectory()) {
    if (inputs.length !== 1) {
      throw new DaftInputError(
        `--boxes-from names one label map, but ${inputs.length} inputs were given; give a folder of label maps ` +
          "named like the inputs",
        path,
      );
    }
    return { promptsFor: () => read(path) };
  }
  const byKey = new Map<string, string[]>();
  for (const name of (await readdir(path)).sort()) {
    if (!LABEL_MAP_FILE.test(name) && !DICOM_FILE_SUFFIX.test(name)) continue;
    const key = caseKeyOf(name);
    byKey.set(key, [...(byKey.get(key) ?? []), name]);
  }
  return {
    promptsFor: async (input) => {
      const key = inputKeyOf(input);
      const names = byKey.get(key) ?? [];
      if (names.length === 0)
        throw new DaftInputError(
          `no label map for it in ${path} (looked for ${key}.<nii.gz|nrrd|mha|png|npz|seg.dcm>)`,
        );
      if (names.length > 1)
        throw new DaftInputError(`several label maps for it in ${path}: ${names.join(", ")}; keep one`);
      return read(join(path, names[0]!));
    },
  };
}

/**
 * The key an input pairs with a label map by, as `daft eval`'s caseKeyOf keys files: its stem without any format
 * suffix the CLI reads ("photo.jpg" → "photo") and, except for an .npz case, without nnU-Net's channel suffix
 * ("ct_0000.nii.gz" → "ct").
 */
function inputKeyOf(input: InputRef): string {
  const stem = stemOf(input);
  return input.kind === "file" && /\.npz$/i.test(input.name) ? stem : stem.replace(/_\d{4}$/, "");
}
