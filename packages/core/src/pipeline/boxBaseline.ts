import type { ChallengeCase } from "../io/challengeCase.js";

/**
 * The "box itself as the mask" baseline the challenge reports against: every box painted (inclusive corners, all
 * slices z0..z1 in 3D) with label = index + 1, later boxes overwriting earlier ones.
 */
export function boxBaselineLabels(kase: ChallengeCase): { labels: Uint16Array; shape: number[] } {
  if (kase.kind === "2d") {
    const { height: H, width: W } = kase.image;
    const labels = new Uint16Array(H * W);
    kase.boxes.forEach((b, i) => {
      const [x0, y0, x1, y1] = b.map(Math.round) as [number, number, number, number];
      for (let y = y0; y <= y1; y++) labels.fill(i + 1, y * W + x0, y * W + x1 + 1);
    });
    return { labels, shape: [H, W] };
  }
  const { depth: D, height: H, width: W } = kase.volume;
  const labels = new Uint16Array(D * H * W);
  kase.boxes.forEach((b, i) => {
    const [x0, y0, z0, x1, y1, z1] = b.map(Math.round) as [number, number, number, number, number, number];
    for (let z = z0; z <= z1; z++)
      for (let y = y0; y <= y1; y++) labels.fill(i + 1, (z * H + y) * W + x0, (z * H + y) * W + x1 + 1);
  });
  return { labels, shape: [D, H, W] };
}
