/**
 * An input's bytes → what the page shows: the core's decoders (the same ones segmentInput uses), turned into a
 * DisplayImage for the viewer. Challenge .npz files also bring their own boxes.
 */
import {
  decodeChallengeCase,
  decodeStudyFile,
  loadDicomSeriesDecoder,
  DaftInputError,
  inputFormatOf,
  openNpz,
  type InputBytes,
  type NdArray,
  type Study,
} from "@daft/core";
import type { DisplayImage } from "../view/viewerNifti.js";

export type DecodedInput =
  | { kind: "study"; study: Study; display: DisplayImage; description: string }
  | {
      kind: "npz";
      display: DisplayImage;
      dimension: 2 | 3;
      /** The label map's shape as `daft segment` writes it: (H, W) or (D, H, W). */
      shape: number[];
      /** The file's own boxes (x0,y0,x1,y1 or x0,y0,z0,x1,y1,z1). */
      fileBoxes: number[][];
      description: string;
    };

/** Asynchronous because pictures and DICOM load their decoders on first use (the core's codecModules). */
export async function decodeInput(input: InputBytes): Promise<DecodedInput> {
  const source = input.source ?? input.name;
  if (input.kind === "dicom-series") {
    const { decodeDicomStudy } = await loadDicomSeriesDecoder();
    return studyInput(decodeDicomStudy(input.files, source));
  }
  if (inputFormatOf(input.bytes, input.name) !== "npz")
    return studyInput(await decodeStudyFile(input.bytes, source));
  return npzInput(input.bytes, source);
}

function studyInput(study: Study): DecodedInput {
  const [sz, sy, sx] = study.spacing ?? [1, 1, 1];
  const display: DisplayImage = {
    width: study.width,
    height: study.height,
    depth: study.depth,
    channels: study.channels,
    values: study.values,
    spacing: [sx, sy, sz],
    invert: study.invert,
  };
  return { kind: "study", study, display, description: study.description };
}

function npzInput(bytes: Uint8Array, source: string): DecodedInput {
  let arrays: Map<string, NdArray>;
  try {
    const archive = openNpz(bytes, source);
    arrays = new Map(
      ["imgs", "boxes", "spacing"].filter((k) => archive.has(k)).map((k) => [k, archive.read(k)]),
    );
  } catch (e) {
    if (e instanceof DaftInputError) throw e.withSource(source);
    throw new DaftInputError(e instanceof Error ? e.message : String(e), source);
  }
  const kase = decodeChallengeCase(arrays, source);
  if (kase.kind === "2d") {
    const { image } = kase;
    const [sy, sx] = kase.spacing ?? [1, 1];
    return {
      kind: "npz",
      display: { ...image, depth: 1, values: image.data, spacing: [sx, sy, 1], invert: false },
      dimension: 2,
      shape: [image.height, image.width],
      fileBoxes: kase.boxes.map((b) => [...b]),
      description: `challenge case ${image.width}×${image.height}${image.channels === 3 ? " RGB" : ""}, ${kase.boxes.length} box(es)`,
    };
  }
  const { volume } = kase;
  const [sz, sy, sx] = volume.spacing;
  return {
    kind: "npz",
    display: {
      width: volume.width,
      height: volume.height,
      depth: volume.depth,
      channels: 1,
      values: volume.data,
      spacing: [sx, sy, sz],
      invert: false,
    },
    dimension: 3,
    shape: [volume.depth, volume.height, volume.width],
    fileBoxes: kase.boxes.map((b) => [...b]),
    description:
      `challenge case ${volume.width}×${volume.height}×${volume.depth}, spacing ${[sx, sy, sz].join("×")} mm, ` +
      `${kase.boxes.length} box(es)`,
  };
}
