import type { Box2D } from "../image/types.js";

/**
 * Small objects (nuclei: a few pixels once a whole image is shrunk to 256²) are segmented on a zoomed tile
 * instead of the whole image, the way the training package shows them to the model (training/README.md,
 * "zoomed crops"): a square crop around the object, about `contextFactor` × its long side, treated as an image.
 *
 * To keep "each embedding computed once, shared by all boxes", tiles are not cut per box: they sit on fixed
 * grids — side c = a power of two (≥ minTilePx), origins every c/2 (the last one flush with the image edge) — so
 * neighbouring small boxes share a tile and its embedding. A box of long side L goes to the grid with the smallest
 * c ≥ contextFactor·L (so c/L ∈ [f, 2f)), in the tile whose centre is nearest to the box's centre among those
 * that contain it entirely.
 */
export interface SmallObjectZoom {
  /** Zoom boxes whose long side in the whole-image model frame is below this many pixels. */
  belowFramePx: number;
  /** Tile side ≈ contextFactor × the box's long side (next power of two). */
  contextFactor: number;
  /** Smallest tile side in original pixels. */
  minTilePx: number;
}

/** An image region segmented as an image of its own; the whole image is the region with key 0. */
export interface ImageRegion {
  key: number;
  x0: number;
  y0: number;
  width: number;
  height: number;
}

export interface RegionPlan {
  region: ImageRegion;
  /** Indices into the box list. */
  boxes: number[];
}

/** Which region each box is segmented in. Regions come in a stable order: whole image first, then tiles. */
export function planRegions(
  boxes: readonly Box2D[],
  height: number,
  width: number,
  frameSize: number,
  zoom: SmallObjectZoom | undefined,
): RegionPlan[] {
  const whole: RegionPlan = { region: { key: 0, x0: 0, y0: 0, width, height }, boxes: [] };
  const longest = Math.max(height, width);
  const scale = frameSize / longest;
  const tiles = new Map<string, RegionPlan>();
  boxes.forEach((b, i) => {
    const long = Math.max(b[2] - b[0] + 1, b[3] - b[1] + 1);
    if (!zoom || long * scale >= zoom.belowFramePx) {
      whole.boxes.push(i);
      return;
    }
    let side = Math.max(zoom.minTilePx, 2 ** Math.ceil(Math.log2(zoom.contextFactor * long)));
    if (side >= longest) {
      whole.boxes.push(i);
      return;
    }
    const tx = tileOrigin(b[0], b[2], side, width);
    const ty = tileOrigin(b[1], b[3], side, height);
    const w = Math.min(side, width);
    const h = Math.min(side, height);
    const id = `${side}:${tx}:${ty}`;
    let plan = tiles.get(id);
    if (!plan) {
      plan = { region: { key: tiles.size + 1, x0: tx, y0: ty, width: w, height: h }, boxes: [] };
      tiles.set(id, plan);
    }
    plan.boxes.push(i);
  });
  return [whole, ...tiles.values()].filter((p) => p.boxes.length > 0);
}

/** Origin of the grid tile (side c, stride c/2, last one flush with the edge) best centred on [lo, hi]. */
function tileOrigin(lo: number, hi: number, side: number, size: number): number {
  if (side >= size) return 0;
  const stride = side / 2;
  const last = size - side;
  const centre = (lo + hi + 1) / 2;
  const origins: number[] = [];
  for (let o = 0; o < last; o += stride) origins.push(o);
  origins.push(last);
  let best = -1;
  let bestDist = Infinity;
  for (const o of origins) {
    if (o > lo || o + side < hi + 1) continue; // must contain the whole box
    const d = Math.abs(o + side / 2 - centre);
    if (d < bestDist) {
      bestDist = d;
      best = o;
    }
  }
  // A box longer than half a tile cannot be planned here (contextFactor ≥ 2 prevents it); clamp as a safeguard.
  return best >= 0 ? best : Math.min(Math.max(0, Math.round(centre - side / 2)), last);
}
