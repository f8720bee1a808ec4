/**
 * Canvas pixels ↔ input voxel coordinates on niivue's 2D tiles, exactly as niivue maps them
 * (screenXY2TextureFrac / frac2canvasPos in niivue 0.69), so a box drawn with the mouse is the box the engine gets.
 *
 * The viewer shows a volume built by viewerNifti.ts: display voxel (i, H-1-j, k) sits at millimetres
 * (i·sx, (H-1-j)·sy, k·sz) with no rotation, so input row 0 is at the top of the axial view and voxel centres are
 * at integer coordinates. A tile shows two world axes: axial (x right, y up), coronal (x, z), sagittal (y, z).
 */

/** One of niivue's 2D tiles (`nv.screenSlices[n]`), in canvas device pixels and millimetres. */
export interface SliceTile {
  /** [left, top, width, height] in canvas pixels; a negative width means the tile is mirrored. */
  leftTopWidthHeight: number[];
  /** 0 axial, 1 coronal, 2 sagittal (3+ is a 3D render tile). */
  axCorSag: number;
  /** Millimetres at the tile's left edge and at its bottom edge. */
  leftTopMM: number[];
  /** Millimetres the tile spans horizontally and vertically (negative when the axis runs right-to-left). */
  fovMM: number[];
}

/** The input's voxel grid and voxel size in mm (x, y, z). */
export interface VoxelGrid {
  width: number;
  height: number;
  depth: number;
  spacing: readonly [number, number, number];
}

export type Axis = "x" | "y" | "z";

/** The input axes a tile shows: horizontally, vertically. */
export function tileAxes(axCorSag: number): [Axis, Axis] {
  if (axCorSag === 0) return ["x", "y"];
  if (axCorSag === 1) return ["x", "z"];
  if (axCorSag === 2) return ["y", "z"];
  throw new Error(`tile type ${axCorSag} is not a 2D slice`);
}

/** A mouse event's client position → canvas pixel (the canvas may be scaled by CSS and devicePixelRatio). */
export function clientToCanvas(
  client: readonly [number, number],
  rect: { left: number; top: number; width: number; height: number },
  canvas: { width: number; height: number },
): [number, number] {
  return [
    ((client[0] - rect.left) * canvas.width) / rect.width,
    ((client[1] - rect.top) * canvas.height) / rect.height,
  ];
}

/** The tile's rectangle with a positive width, and whether it is mirrored. */
function tileRect(tile: SliceTile): {
  left: number;
  top: number;
  width: number;
  height: number;
  mirror: boolean;
} {
  const [left = 0, top = 0, width = 0, height = 0] = tile.leftTopWidthHeight;
  return width < 0
    ? { left: left + width, top, width: -width, height, mirror: true }
    : { left, top, width, height, mirror: false };
}

/** The first 2D tile whose rectangle holds the canvas point (edges included, like niivue), or -1. */
export function tileAt(point: readonly [number, number], tiles: readonly SliceTile[]): number {
  return tiles.findIndex((tile) => {
    if (tile.axCorSag > 2) return false;
    const r = tileRect(tile);
    return (
      point[0] >= r.left && point[0] <= r.left + r.width && point[1] >= r.top && point[1] <= r.top + r.height
    );
  });
}

/** Millimetres along an input axis → continuous input voxel coordinate (y counts rows from the top). */
function mmToVoxel(mm: number, axis: Axis, grid: VoxelGrid): number {
  if (axis === "x") return mm / grid.spacing[0];
  if (axis === "y") return grid.height - 1 - mm / grid.spacing[1];
  return mm / grid.spacing[2];
}

function voxelToMm(voxel: number, axis: Axis, grid: VoxelGrid): number {
  if (axis === "x") return voxel * grid.spacing[0];
  if (axis === "y") return (grid.height - 1 - voxel) * grid.spacing[1];
  return voxel * grid.spacing[2];
}

/**
 * A canvas point on a tile → continuous input voxel coordinates of the tile's two axes (voxel centres are
 * integers; voxel n covers [n - 0.5, n + 0.5]). Points outside the image give coordinates outside that range.
 */
export function canvasToVoxel(
  point: readonly [number, number],
  tile: SliceTile,
  grid: VoxelGrid,
): { axes: [Axis, Axis]; u: number; v: number } {
  const r = tileRect(tile);
  let fracX = (point[0] - r.left) / r.width;
  if (r.mirror) fracX = 1 - fracX;
  const fracY = 1 - (point[1] - r.top) / r.height;
  const mmU = tile.leftTopMM[0]! + fracX * tile.fovMM[0]!;
  const mmV = tile.leftTopMM[1]! + fracY * tile.fovMM[1]!;
  const axes = tileAxes(tile.axCorSag);
  return { axes, u: mmToVoxel(mmU, axes[0], grid), v: mmToVoxel(mmV, axes[1], grid) };
}

/** Continuous input voxel coordinates of the tile's two axes → canvas point (the inverse of canvasToVoxel). */
export function voxelToCanvas(u: number, v: number, tile: SliceTile, grid: VoxelGrid): [number, number] {
  const axes = tileAxes(tile.axCorSag);
  const r = tileRect(tile);
  let fracX = (voxelToMm(u, axes[0], grid) - tile.leftTopMM[0]!) / tile.fovMM[0]!;
  if (r.mirror) fracX = 1 - fracX;
  const fracY = (voxelToMm(v, axes[1], grid) - tile.leftTopMM[1]!) / tile.fovMM[1]!;
  return [r.left + fracX * r.width, r.top + (1 - fracY) * r.height];
}

/** The voxel index holding a continuous coordinate, clamped into [0, size - 1]. */
export function voxelIndex(coordinate: number, size: number): number {
  return Math.min(size - 1, Math.max(0, Math.round(coordinate)));
}

export function axisSize(axis: Axis, grid: VoxelGrid): number {
  return axis === "x" ? grid.width : axis === "y" ? grid.height : grid.depth;
}

/**
 * The canvas rectangle covering voxels [u0, u1] × [v0, v1] of a tile (inclusive, outer voxel edges), as
 * left, top, width, height with positive sizes.
 */
export function voxelRectOnCanvas(
  u: readonly [number, number],
  v: readonly [number, number],
  tile: SliceTile,
  grid: VoxelGrid,
): [number, number, number, number] {
  const a = voxelToCanvas(Math.min(u[0], u[1]) - 0.5, Math.min(v[0], v[1]) - 0.5, tile, grid);
  const b = voxelToCanvas(Math.max(u[0], u[1]) + 0.5, Math.max(v[0], v[1]) + 0.5, tile, grid);
  return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.abs(b[0] - a[0]), Math.abs(b[1] - a[1])];
}
