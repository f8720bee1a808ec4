/**
 * `window.__daft`: read-only views of the page's state for the end-to-end test (and for curious users in the
 * console), plus the mouse mapping both ways so a test can aim at voxels and check niivue agrees.
 */
import type { App } from "../app.js";
import type { EngineWorker } from "../segment/workerClient.js";
import { canvasToVoxel, clientToCanvas, tileAt, voxelIndex, voxelToCanvas } from "../view/voxelMapping.js";
import type { Viewer } from "../view/viewer.js";

export function testHooks(app: App, viewer: Viewer, engine: EngineWorker) {
  const canvas = viewer.canvasElement;
  return {
    state() {
      const image = app.image;
      const layer = image ? viewer.layer() : undefined;
      return {
        busy: app.busy,
        segmentRuns: app.segmentRuns,
        segmentError: app.segmentError,
        /** Workers that decoded the last opened DICOM series' compressed slices (0: the engine worker did). */
        decodeWorkers: engine.decodeWorkers,
        image: image && {
          name: image.opened.plan.name,
          dimension: image.dimension,
          width: image.grid.width,
          height: image.grid.height,
          depth: image.grid.depth,
        },
        boxes: app.history.boxes.map((b) => ({ ...b })),
        undoDepth: app.history.depth,
        maskVoxels: layer ? layer.reduce((n, v) => n + (v > 0 ? 1 : 0), 0) : 0,
        result: app.result && {
          fileName: app.result.fileName,
          expert: app.result.outcome.record.route.expert,
          runtime: app.result.outcome.runtime,
          engineMs: app.result.outcome.record.totalMs,
          outputBytes: app.result.outcome.output.length,
        },
        lastExport: app.lastExport && {
          fileName: app.lastExport.fileName,
          bytes: app.lastExport.bytes.length,
        },
      };
    },
    /** Client coordinates (CSS px) of voxel (x, y)'s centre on the axial view, or null when it is not shown. */
    clientPointOfVoxel(x: number, y: number): [number, number] | null {
      const tile = viewer.tiles().find((t) => t.axCorSag === 0);
      if (!tile || !viewer.grid) return null;
      const [cx, cy] = voxelToCanvas(x, y, tile, viewer.grid);
      const rect = canvas.getBoundingClientRect();
      return [rect.left + (cx * rect.width) / canvas.width, rect.top + (cy * rect.height) / canvas.height];
    },
    /** The page's voxel (x, y) under a client point on the axial view — what a box corner snaps to — or null. */
    pageVoxelAt(clientX: number, clientY: number): [number, number] | null {
      const point = clientToCanvas([clientX, clientY], canvas.getBoundingClientRect(), canvas);
      const tile = viewer.tiles()[tileAt(point, viewer.tiles())];
      if (!tile || tile.axCorSag !== 0 || !viewer.grid) return null;
      const { u, v } = canvasToVoxel(point, tile, viewer.grid);
      return [voxelIndex(u, viewer.grid.width), voxelIndex(v, viewer.grid.height)];
    },
    /** niivue's own voxel under a client point (its canvasPos2frac + frac2vox), as input (x, y, z), or null. */
    niivueVoxelAt(clientX: number, clientY: number): [number, number, number] | null {
      const point = clientToCanvas([clientX, clientY], canvas.getBoundingClientRect(), canvas);
      if (tileAt(point, viewer.tiles()) < 0 || !viewer.grid) return null;
      const frac = viewer.nv.canvasPos2frac(point);
      if (frac[0]! < 0) return null;
      const vox = viewer.nv.frac2vox(frac);
      return [vox[0]!, viewer.grid.height - 1 - vox[1]!, vox[2]!];
    },
  };
}
