/**
 * Where `daft segment` writes one input's results, and the writing: the label map, with --dicom-seg the
 * DICOM-SEG beside it, and with --slicer-seg the 3D Slicer segmentation. Every path is checked before anything is written (not the input itself, not inside the DICOM
 * series folder being read, not a file an earlier input of the run wrote); each file is written atomically.
 */
import { join, resolve } from "node:path";
import { DaftInputError, type SegmentedInput } from "@daft/core";
import { writeFileAtomic } from "../io/atomicWrite.js";
import { dicomSegFileName, labelMapFileName, stemOf, type InputRef } from "./segmentInputs.js";

export interface WrittenOutputs {
  labelMap: string;
  /** The DICOM-SEG's path, when one was written. */
  dicomSeg?: string;
  /** Why no DICOM-SEG was written although one was asked for (an empty label map). */
  dicomSegSkipped?: string;
  /** The 3D Slicer segmentation's path (`<name>.seg.nrrd`), when one was written. */
  slicerSegmentation?: string;
}

/** Files written beside the label map when the run asks for them. */
export interface ExtraOutputs {
  /** The `.seg.nrrd` bytes (slicerSegmentationOf). */
  slicerSegmentation?: Uint8Array;
}

/**
 * Writes `result`'s files into `outDir` (absolute). `written` maps every path written so far in the run to its
 * input and is updated; a clash, or a path that would overwrite the input, is a DaftInputError.
 */
export async function writeSegmentOutputs(
  input: InputRef,
  result: SegmentedInput,
  outDir: string,
  written: Map<string, string>,
  extra: ExtraOutputs = {},
): Promise<WrittenOutputs> {
  const labelMap = join(outDir, labelMapFileName(input, result));
  const seg = result.dicomSeg;
  const dicomSeg = seg?.written ? join(outDir, dicomSegFileName(input)) : undefined;
  const slicerSegmentation = extra.slicerSegmentation ? join(outDir, `${stemOf(input)}.seg.nrrd`) : undefined;
  checkPath(labelMap, "label map", input, written);
  if (slicerSegmentation) {
    checkPath(slicerSegmentation, "Slicer segmentation", input, written);
    if (slicerSegmentation === labelMap)
      throw new DaftInputError("its Slicer segmentation would overwrite its label map; rename the input");
  }
  if (dicomSeg) {
    checkPath(dicomSeg, "DICOM-SEG", input, written);
    if (input.kind === "dicom-folder" && outDir === resolve(input.path)) {
      throw new DaftInputError(
        "its DICOM-SEG would land in the series folder itself (and be read as part of the series next time); " +
          "choose another -o folder",
      );
    }
  }
  await writeFileAtomic(labelMap, result.output);
  written.set(labelMap, input.path);
  const outputs: WrittenOutputs = { labelMap };
  if (slicerSegmentation && extra.slicerSegmentation) {
    await writeFileAtomic(slicerSegmentation, extra.slicerSegmentation);
    written.set(slicerSegmentation, input.path);
    outputs.slicerSegmentation = slicerSegmentation;
  }
  if (dicomSeg && seg?.written) {
    await writeFileAtomic(dicomSeg, seg.bytes);
    written.set(dicomSeg, input.path);
    outputs.dicomSeg = dicomSeg;
  } else if (seg && !seg.written) outputs.dicomSegSkipped = seg.reason;
  return outputs;
}

function checkPath(path: string, what: string, input: InputRef, written: Map<string, string>): void {
  if (path === resolve(input.path)) {
    throw new DaftInputError(`its ${what} would overwrite the input itself; choose another -o folder`);
  }
  const earlier = written.get(path);
  if (earlier)
    throw new DaftInputError(`its ${what} ${path} was already written for ${earlier}; rename one of them`);
}
