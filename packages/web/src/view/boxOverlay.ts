/**
 * The boxes, drawn on a transparent canvas over niivue's: on the axial view when the slice is inside a box's
 * z-range, and as the box's x–z / y–z extent on the coronal and sagittal views when they cut through it.
 * Rectangles cover whole voxels (outer edges), so what is drawn is exactly the box the engine gets.
 */
import type { VoxelBox } from "../model/editHistory.js";
import { cssColour } from "../model/palette.js";
import { tileAxes, voxelRectOnCanvas, type Axis, type SliceTile, type VoxelGrid } from "./voxelMapping.js";

export interface OverlayBox {
  box: VoxelBox;
  label: number;
  selected: boolean;
  /** Being drawn with the mouse. */
  pending?: boolean;
}

function range(box: VoxelBox, axis: Axis): [number, number] {
  return axis === "x" ? [box.x0, box.x1] : axis === "y" ? [box.y0, box.y1] : [box.z0, box.z1];
}

/** The axis a tile cuts across: axial → z, coronal → y, sagittal → x. */
function depthAxis(axCorSag: number): Axis {
  return axCorSag === 0 ? "z" : axCorSag === 1 ? "y" : "x";
}

export function drawBoxOverlay(
  canvas: HTMLCanvasElement,
  size: { width: number; height: number },
  tiles: readonly SliceTile[],
  grid: VoxelGrid | undefined,
  crosshair: readonly [number, number, number],
  boxes: readonly OverlayBox[],
): void {
  if (canvas.width !== size.width || canvas.height !== size.height) {
    canvas.width = size.width;
    canvas.height = size.height;
  }
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!grid) return;
  const scale = Math.max(1, window.devicePixelRatio || 1);
  for (const tile of tiles) {
    if (tile.axCorSag > 2) continue;
    const [u, v] = tileAxes(tile.axCorSag);
    const across = depthAxis(tile.axCorSag);
    const at = across === "x" ? crosshair[0] : across === "y" ? crosshair[1] : crosshair[2];
    const [left = 0, top = 0, width = 0, height = 0] = tile.leftTopWidthHeight;
    ctx.save();
    ctx.beginPath();
    ctx.rect(Math.min(left, left + width), top, Math.abs(width), height);
    ctx.clip();
    for (const { box, label, selected, pending } of boxes) {
      const [lo, hi] = range(box, across);
      if (at < lo || at > hi) continue;
      const [x, y, w, h] = voxelRectOnCanvas(range(box, u), range(box, v), tile, grid);
      ctx.strokeStyle = cssColour(label);
      ctx.lineWidth = (selected || pending ? 2.5 : 1.5) * scale;
      ctx.setLineDash(pending ? [6 * scale, 4 * scale] : []);
      ctx.strokeRect(x, y, w, h);
      if (!pending) {
        ctx.font = `${12 * scale}px system-ui, sans-serif`;
        ctx.fillStyle = cssColour(label);
        ctx.fillText(String(label), x + 2 * scale, y - 3 * scale);
      }
    }
    ctx.restore();
  }
}
