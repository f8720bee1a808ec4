/**
 * A segmented input's label map as the file a MONAI Label client asks for: NIfTI (.nii.gz) or NRRD (.nrrd),
 * always in the input's voxel grid — for NIfTI, NRRD, MetaImage and DICOM inputs the label map `segmentInput` wrote (the input's
 * header and affine; the other format from its placement), for pictures a one-slice image in pixel units, for challenge .npz cases the case's spacing.
 */
import {
  flipXY,
  gzip,
  LABEL_MAP_LEVEL,
  readNifti,
  shortestFloat32,
  writeNifti,
  writeNrrd,
  type SegmentedInput,
} from "@daft/core";

export type LabelMapExtension = ".nii.gz" | ".nrrd";

interface LabelGrid {
  labels: Uint16Array;
  /** Sizes (x, y, z). */
  sizes: [number, number, number];
  /** Voxel → RAS millimetres, when the input is placed in patient space. */
  affine?: number[][];
  /** Voxel size (x, y, z) for inputs without a patient frame. */
  spacing: [number, number, number];
}

const NIFTI_OUTPUT = /\.nii(\.gz)?$/;

/** The label map file in the asked format. */
export function labelMapFile(result: SegmentedInput, extension: LabelMapExtension): Uint8Array {
  if (extension === ".nii.gz") {
    if (result.format === "study" && NIFTI_OUTPUT.test(result.extension)) {
      // The CLI's own NIfTI (input header or DICOM geometry): only compressed when it was not.
      return result.extension === ".nii.gz" ? result.output : gzip(result.output, LABEL_MAP_LEVEL);
    }
    const grid = labelGrid(result);
    return writeNifti(grid.labels, grid.sizes, {
      pixdim: grid.spacing,
      ...(grid.affine ? { affine: grid.affine } : {}),
      gzip: true,
      gzipLevel: LABEL_MAP_LEVEL,
    });
  }
  if (result.format === "study" && result.extension === ".nrrd") return result.output;
  const grid = labelGrid(result);
  const content = `daft label map of ${result.record.case} (label = box index + 1)`;
  if (!grid.affine) {
    return writeNrrd({
      type: "uint16",
      sizes: grid.sizes,
      data: grid.labels,
      spacings: grid.spacing,
      content,
    });
  }
  const a = grid.affine.map((row) => row.map(shortestFloat32));
  return writeNrrd({
    type: "uint16",
    sizes: grid.sizes,
    data: grid.labels,
    space: "right-anterior-superior",
    spaceDirections: [0, 1, 2].map((col) => [a[0]![col]!, a[1]![col]!, a[2]![col]!]),
    spaceOrigin: [a[0]![3]!, a[1]![3]!, a[2]![3]!],
    content,
  });
}

function labelGrid(result: SegmentedInput): LabelGrid {
  if (result.format === "study" && NIFTI_OUTPUT.test(result.extension)) {
    const nifti = readNifti(result.output, result.record.case);
    const [x = 1, y = 1, z = 1] = nifti.dims;
    const [px = 1, py = 1, pz = 1] = nifti.pixdim;
    return {
      labels: result.labels,
      sizes: [x, y, z],
      affine: nifti.affine,
      spacing: [Math.abs(px), Math.abs(py), Math.abs(pz)],
    };
  }
  if (result.format === "study" && /^\.(nrrd|mha)$/.test(result.extension) && result.placement) {
    // The input's own placement, which daft segment's label map carries.
    const { geometry, spacing } = result.placement;
    const [sz, sy, sx] = spacing;
    const { width, height, depth } =
      result.input.kind === "3d" ? result.input.volume : { ...result.input.image, depth: 1 };
    return {
      labels: result.labels,
      sizes: [width, height, depth],
      ...(geometry.positioned
        ? { affine: geometry.space === "LPS" ? flipXY(geometry.affine) : geometry.affine }
        : {}),
      spacing: [sx, sy, sz],
    };
  }
  const input = result.input;
  if (input.kind === "3d") {
    const [sz, sy, sx] = input.volume.spacing;
    return {
      labels: result.labels,
      sizes: [input.volume.width, input.volume.height, input.volume.depth],
      spacing: [sx, sy, sz],
    };
  }
  const [sy, sx] = input.spacing ?? [1, 1];
  return { labels: result.labels, sizes: [input.image.width, input.image.height, 1], spacing: [sx, sy, 1] };
}
