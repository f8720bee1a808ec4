import { describe, expect, it } from "vitest";
import {
  AGREEMENT_COLOURS,
  agreementPicture,
  drawAgreement,
  shrinkToFit,
  worstSlices,
} from "./agreementPicture.js";

const pixel = (picture: { data: Uint8Array; width: number }, x: number, y: number) => [
  ...picture.data.subarray((y * picture.width + x) * 3, (y * picture.width + x) * 3 + 3),
];
const blend = (base: number, colour: readonly number[], alpha: number) =>
  colour.map((c) => Math.round(base * (1 - alpha) + c * alpha));

describe("drawAgreement", () => {
  // 5×5, grey 100 everywhere but one pixel at 200 (so min-max scaling maps 100 → 0 and 200 → 255).
  const image = {
    data: new Uint8Array(25).fill(100).map((v, i) => (i === 24 ? 200 : v)),
    width: 5,
    height: 5,
    channels: 1,
  };
  const gt = new Uint8Array(25);
  const pred = new Uint8Array(25);
  for (let y = 1; y <= 3; y++) for (let x = 1; x <= 3; x++) gt[y * 5 + x] = 1;
  for (let y = 1; y <= 3; y++) for (let x = 2; x <= 4; x++) pred[y * 5 + x] = 1;
  pred[0] = 2; // a second label where the ground truth has none
  const picture = drawAgreement(image, gt, pred, { fill: 0.5, errorFill: 0.5 });

  it("tints agreement green, misses blue, extras red, and outlines the ground truth in yellow", () => {
    expect(pixel(picture, 2, 2)).toEqual(blend(0, AGREEMENT_COLOURS.agree, 0.5)); // inside both, not an edge
    expect(pixel(picture, 1, 2)).toEqual([...AGREEMENT_COLOURS.outline]); // missed, on the outline
    expect(pixel(picture, 4, 2)).toEqual(blend(0, AGREEMENT_COLOURS.extra, 0.5)); // predicted, not in gt
    expect(pixel(picture, 0, 0)).toEqual(blend(0, AGREEMENT_COLOURS.extra, 0.5)); // another label, not in gt
    expect(pixel(picture, 0, 4)).toEqual([0, 0, 0]); // background untouched
    expect(pixel(picture, 4, 4)).toEqual([255, 255, 255]);
  });

  it("marks a miss that is not on the outline blue", () => {
    const big = new Uint8Array(49);
    for (let y = 1; y <= 5; y++) for (let x = 1; x <= 5; x++) big[y * 7 + x] = 3;
    const none = new Uint8Array(49);
    const p = drawAgreement({ data: new Uint8Array(49), width: 7, height: 7, channels: 1 }, big, none, {
      errorFill: 1,
    });
    expect(pixel(p, 3, 3)).toEqual([...AGREEMENT_COLOURS.missed]);
  });
});

describe("worstSlices", () => {
  it("takes each label's slice of most disagreement, worst label first, then slice order", () => {
    const depth = 6;
    const plane = 4;
    const gt = new Uint8Array(depth * plane);
    const pred = new Uint8Array(depth * plane);
    // label 1 on slices 0..5, predicted right except 3 voxels wrong on slice 4
    for (let z = 0; z < depth; z++) gt.fill(1, z * plane, z * plane + 3);
    pred.set(gt);
    pred.fill(0, 4 * plane, 4 * plane + 3);
    // label 2 only on slice 1, one voxel missed
    gt[1 * plane + 3] = 2;
    expect(worstSlices({ gt, pred }, depth, plane, 4)).toEqual([1, 4]);
    expect(worstSlices({ gt, pred }, depth, plane, 1)).toEqual([4]);
    // a perfect prediction: the middle of each label's ground truth
    expect(worstSlices({ gt, pred: gt }, depth, plane, 4)).toEqual([1, 2]);
    expect(worstSlices({ gt: new Uint8Array(24), pred: new Uint8Array(24) }, depth, plane, 4)).toEqual([3]);
  });
});

describe("agreementPicture", () => {
  it("draws a 3D case as side-by-side slices and a label map without image on black", () => {
    const shape = [3, 4, 5];
    const gt = new Uint8Array(60);
    gt[0 * 20 + 7] = 1;
    gt[2 * 20 + 7] = 2;
    const picture = agreementPicture({ shape, gt, pred: new Uint8Array(60) }, 4, 1600, 1);
    expect([picture.width, picture.height]).toEqual([5 + 4 + 5, 4]);
    expect(pixel(picture, 2, 1)).toEqual([...AGREEMENT_COLOURS.outline]);
    expect(pixel(picture, 0, 0)).toEqual([0, 0, 0]);
    // small volumes are enlarged by whole pixels: shorter side 4 → ×50 for 200 px, capped by the longer side
    const big = agreementPicture({ shape, gt, pred: new Uint8Array(60) }, 4, 700, 200);
    expect([big.width, big.height]).toEqual([14 * 50, 4 * 50]);
    expect(pixel(big, 2 * 50 + 49, 1 * 50)).toEqual([...AGREEMENT_COLOURS.outline]);
    expect(agreementPicture({ shape, gt, pred: new Uint8Array(60) }, 4, 280, 200).width).toBe(14 * 20);
  });
});

describe("shrinkToFit", () => {
  it("averages f×f blocks so the longer side fits", () => {
    const picture = { data: new Uint8Array(4 * 2 * 3), width: 4, height: 2 };
    picture.data.set([10, 20, 30, 30, 40, 50], 0); // (0,0), (1,0)
    picture.data.set([50, 60, 70, 70, 80, 90], 12); // (0,1), (1,1)
    const small = shrinkToFit(picture, 2);
    expect([small.width, small.height]).toEqual([2, 1]);
    expect([...small.data.subarray(0, 3)]).toEqual([40, 50, 60]);
    expect(shrinkToFit(picture, 4)).toBe(picture);
  });
});
