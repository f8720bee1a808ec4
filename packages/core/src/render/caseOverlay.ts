import type { ChallengeCase } from "../io/challengeCase.js";
import { drawOverlay, tilePictures, type RgbPicture } from "./overlay.js";

/**
 * A picture of a segmented case: 2D — the image with masks and prompt boxes; 3D — one panel per distinct
 * middle slice of the boxes (at most `maxPanels`), each with the masks of that slice and the boxes centred there.
 */
export function caseOverlay(kase: ChallengeCase, labels: Uint16Array, maxPanels = 6): RgbPicture {
  if (kase.kind === "2d") {
    const { image } = kase;
    return drawOverlay(image, labels, { boxes: kase.boxes.map((box, i) => ({ box, label: i + 1 })) });
  }
  const { volume } = kase;
  const plane = volume.height * volume.width;
  const bySlice = new Map<number, { box: [number, number, number, number]; label: number }[]>();
  kase.boxes.forEach(([x0, y0, z0, x1, y1, z1], i) => {
    const z = Math.floor((z1 - z0) / 2 + z0);
    const list = bySlice.get(z) ?? [];
    list.push({ box: [x0, y0, x1, y1], label: i + 1 });
    bySlice.set(z, list);
  });
  const slices = [...bySlice.keys()].sort((a, b) => a - b).slice(0, maxPanels);
  return tilePictures(
    slices.map((z) =>
      drawOverlay(
        {
          data: volume.data.subarray(z * plane, (z + 1) * plane),
          width: volume.width,
          height: volume.height,
          channels: 1,
        },
        labels.subarray(z * plane, (z + 1) * plane),
        { boxes: bySlice.get(z) },
      ),
    ),
  );
}
