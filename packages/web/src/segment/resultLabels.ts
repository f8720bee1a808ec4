/**
 * The label map inside a result file (from `daft serve`): PNG, NIfTI, NRRD, MetaImage or the challenge .npz 'segs', decoded with
 * the core's readers into uint16 labels in the input's voxel order — what segmentInput's `labels` holds.
 */
import {
  decodeMetaImageStudy,
  decodeNiftiStudy,
  decodeNrrdStudy,
  loadRasterCodecs,
  openNpz,
} from "@daft/core";

/** Asynchronous because a PNG label map loads the picture decoder on first use (the core's codecModules). */
export async function labelsFromOutput(
  bytes: Uint8Array,
  fileName: string,
  voxels: number,
): Promise<Uint16Array> {
  let values: ArrayLike<number>;
  if (/\.npz$/i.test(fileName)) values = openNpz(bytes, fileName).read("segs").data as Uint16Array;
  else if (/\.png$/i.test(fileName)) values = (await loadRasterCodecs()).decodeRaster(bytes, fileName).data;
  else if (/\.nii(\.gz)?$/i.test(fileName)) values = decodeNiftiStudy(bytes, fileName).values;
  else if (/\.nrrd$/i.test(fileName)) values = decodeNrrdStudy(bytes, fileName).values;
  else if (/\.mha$/i.test(fileName)) values = decodeMetaImageStudy(bytes, fileName).values;
  else
    throw new Error(`${fileName}: not a label map the page can show (PNG, NIfTI, NRRD, MetaImage or .npz)`);
  if (values.length !== voxels) {
    throw new Error(`${fileName}: ${values.length} labels for an image of ${voxels} voxels`);
  }
  return Uint16Array.from(values);
}
