/**
 * Which mask is on top where two masks overlap in the label map.
 *
 * The challenge's reference pipeline paints the boxes in order, so a later box's mask covers an earlier one's
 * ("later"). That hides an inner object whose box comes first: in BraTS, a tumour's necrotic core (label 1) lies
 * inside the enhancing ring (label 4), whose box holds it, and a model prompted with the ring's box fills the ring
 * — painted last, it covered the core entirely. "inner" (the default) puts a box that lies inside another box above
 * it, whatever their order, and keeps "later on top" for every other pair: where no box lies inside an earlier box
 * (disc then cup, neighbouring nuclei, every dataset here but BraTS), the label map is exactly the reference one.
 *
 * The order is a ranking of labels, bottom to top: the boxes are placed from the bottom, each time the lowest label
 * whose containing boxes are all placed already (of the orders that respect "lies inside", the one that follows
 * the label order the furthest).
 * Two identical boxes do not contain each other: the later is on top.
 */
export const OVERLAP_POLICIES = ["inner", "later"] as const;

export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

export class PaintOrder {
  /**
   * @param rank rank[label] = height of the label in the stack, 1 (bottom) … N (top); rank[0] = 0 (background).
   */
  private constructor(readonly rank: Uint32Array) {}

  /** Later boxes on top: rank = label. */
  static later(boxCount: number): PaintOrder {
    const rank = new Uint32Array(boxCount + 1);
    for (let l = 0; l <= boxCount; l++) rank[l] = l;
    return new PaintOrder(rank);
  }

  /**
   * @param boxes box i has label i + 1; 2D [x0, y0, x1, y1] or 3D [x0, y0, z0, x1, y1, z1], inclusive corners
   */
  static of(boxes: readonly (readonly number[])[], policy: OverlapPolicy): PaintOrder {
    const n = boxes.length;
    if (policy === "later") return PaintOrder.later(n);
    // waiting[i]: how many boxes holding box i are not placed yet; holds[j]: the boxes box j holds.
    const waiting = new Uint32Array(n);
    const holds: number[][] = boxes.map(() => []);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        if (i !== j && contains(boxes[j]!, boxes[i]!)) {
          waiting[i]!++;
          holds[j]!.push(i);
        }
    const rank = new Uint32Array(n + 1);
    const placed = new Uint8Array(n);
    // O(N²) over at most 1000 boxes: place the lowest-labelled box with nothing left beneath it to wait for.
    for (let height = 1; height <= n; height++) {
      let next = 0;
      while (placed[next] || waiting[next]! > 0) next++;
      placed[next] = 1;
      rank[next + 1] = height;
      for (const inner of holds[next]!) waiting[inner]!--;
    }
    return new PaintOrder(rank);
  }

  /** The given labels from the top of the stack down. */
  topDown(labels: Iterable<number>): number[] {
    return [...labels].sort((a, b) => this.rank[b]! - this.rank[a]!);
  }
}

/** Box `outer` holds box `inner` (every inclusive bound within), and they are not the same box. */
function contains(outer: readonly number[], inner: readonly number[]): boolean {
  const d = outer.length / 2;
  let same = true;
  for (let a = 0; a < d; a++) {
    if (inner[a]! < outer[a]! || inner[a + d]! > outer[a + d]!) return false;
    if (inner[a] !== outer[a] || inner[a + d] !== outer[a + d]) same = false;
  }
  return !same;
}
