/**
 * Drawing a box with the mouse on the axial view (the slice the engine segments): press, drag, release. The
 * listener runs in the capture phase on the viewer element, so with the Box tool niivue never sees the left
 * button; other buttons (window/level, pan) still reach it. Corners snap to the voxel under the mouse.
 */
import type { Viewer } from "../view/viewer.js";
import { axisSize, canvasToVoxel, clientToCanvas, tileAt, voxelIndex } from "../view/voxelMapping.js";

export interface BoxDrawingEvents {
  /** Whether the Box tool is active and an image is open. */
  active(): boolean;
  /** The box being drawn, as two voxel corners (x, y), or null when drawing ends. */
  preview(corners: [[number, number], [number, number]] | null): void;
  finish(a: [number, number], b: [number, number]): void;
}

export function enableBoxDrawing(container: HTMLElement, viewer: Viewer, events: BoxDrawingEvents): void {
  let start: [number, number] | null = null;
  let tileIndex = -1;

  /** The voxel (x, y) under a mouse event on the drawing tile; `inside` is false off the image. */
  const voxelAt = (event: MouseEvent, tile = tileIndex) => {
    const canvas = viewer.canvasElement;
    const point = clientToCanvas([event.clientX, event.clientY], canvas.getBoundingClientRect(), canvas);
    const index = tile >= 0 ? tile : tileAt(point, viewer.tiles());
    const slice = viewer.tiles()[index];
    if (!slice || slice.axCorSag !== 0 || !viewer.grid) return null;
    const { u, v } = canvasToVoxel(point, slice, viewer.grid);
    const w = axisSize("x", viewer.grid);
    const h = axisSize("y", viewer.grid);
    const inside = u >= -0.5 && u <= w - 0.5 && v >= -0.5 && v <= h - 0.5;
    return { index, inside, voxel: [voxelIndex(u, w), voxelIndex(v, h)] as [number, number] };
  };

  container.addEventListener(
    "mousedown",
    (event) => {
      if (event.button !== 0 || !events.active()) return;
      event.stopPropagation();
      event.preventDefault();
      const hit = voxelAt(event, -1);
      if (!hit || !hit.inside) return;
      start = hit.voxel;
      tileIndex = hit.index;
      events.preview([start, start]);
    },
    { capture: true },
  );
  window.addEventListener("mousemove", (event) => {
    if (!start) return;
    const hit = voxelAt(event);
    if (hit) events.preview([start, hit.voxel]);
  });
  window.addEventListener("mouseup", (event) => {
    if (!start || event.button !== 0) return;
    const hit = voxelAt(event);
    const from = start;
    start = null;
    events.preview(null);
    if (hit) events.finish(from, hit.voxel);
  });
}
