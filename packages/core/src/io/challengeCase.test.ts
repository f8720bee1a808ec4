import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { NdArray } from "../image/types.js";
import { thrownInputError } from "../testing/inputErrors.js";
import { decodeChallengeCase, encodeSegmentationNpz, type CaseLimits } from "./challengeCase.js";
import { readNpz } from "./npz.js";

const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`../../../../fixtures/npz/${name}`, import.meta.url)));

const u8 = (shape: number[], fill = 0): NdArray => ({
  data: new Uint8Array(shape.reduce((a, b) => a * b, 1)).fill(fill),
  shape,
  dtype: "uint8",
});
const f64 = (values: number[], shape = [values.length]): NdArray => ({
  data: new Float64Array(values),
  shape,
  dtype: "float64",
});
const boxes2d = (...boxes: number[][]): NdArray => f64(boxes.flat(), [boxes.length, 4]);
const boxes3d = (...boxes: number[][]): NdArray => f64(boxes.flat(), [boxes.length, 6]);

/** The one-line error decodeChallengeCase gives for these arrays. */
function problem(arrays: Record<string, NdArray>, limits?: CaseLimits): string {
  const error = thrownInputError(() =>
    decodeChallengeCase(new Map(Object.entries(arrays)), "case.npz", limits),
  );
  expect(error.source).toBe("case.npz");
  return error.oneLine();
}

describe("decodeChallengeCase on numpy-written cases", () => {
  it("decodes a 2D RGB case", () => {
    const decoded = decodeChallengeCase(readNpz(fixture("case2d.npz")), "case2d.npz");
    if (decoded.kind !== "2d") throw new Error("expected 2d");
    const { image } = decoded;
    expect([image.height, image.width, image.channels]).toEqual([8, 10, 3]);
    expect(image.data).toBeInstanceOf(Uint8Array);
    // pixel (y, x) = [10x + y, 20y, 255]
    const pixel = (y: number, x: number) =>
      Array.from(image.data.subarray((y * 10 + x) * 3, (y * 10 + x) * 3 + 3));
    expect(pixel(0, 0)).toEqual([0, 0, 255]);
    expect(pixel(7, 9)).toEqual([97, 140, 255]);
    expect(pixel(3, 4)).toEqual([43, 60, 255]);
    expect(decoded.boxes).toEqual([
      [1, 2, 4, 5],
      [0, 0, 9, 7],
    ]);
    expect(decoded.spacing).toBeUndefined();
  });

  it("decodes a 3D int16 case with spacing", () => {
    const decoded = decodeChallengeCase(readNpz(fixture("case3d.npz")), "case3d.npz");
    if (decoded.kind !== "3d") throw new Error("expected 3d");
    const { volume } = decoded;
    expect([volume.depth, volume.height, volume.width]).toEqual([4, 6, 5]);
    expect(volume.spacing).toEqual([2.5, 0.75, 0.75]);
    expect(volume.data).toBeInstanceOf(Float32Array);
    // voxel (z, y, x) = 100z + 10y + x - 1000
    const voxel = (z: number, y: number, x: number) => volume.data[(z * 6 + y) * 5 + x];
    expect(voxel(0, 0, 0)).toBe(-1000);
    expect(voxel(3, 5, 4)).toBe(-646);
    expect(voxel(2, 1, 3)).toBe(-787);
    expect(decoded.boxes).toEqual([[1, 1, 0, 3, 4, 2]]);
  });
});

describe("decodeChallengeCase image layouts and dtypes", () => {
  it("accepts (H,W), (H,W,1) and (H,W,4) with alpha dropped", () => {
    const gray = decodeChallengeCase(
      new Map([
        ["imgs", u8([2, 3], 9)],
        ["boxes", boxes2d([0, 0, 2, 1])],
      ]),
      "g",
    );
    expect(gray.kind === "2d" && gray.image.channels).toBe(1);
    const single = decodeChallengeCase(
      new Map([
        ["imgs", u8([2, 3, 1], 9)],
        ["boxes", boxes2d([0, 0, 2, 1])],
      ]),
      "s",
    );
    expect(single.kind === "2d" && [single.image.channels, single.image.data.length]).toEqual([1, 6]);
    const rgba: NdArray = {
      data: new Uint8Array([1, 2, 3, 255, 4, 5, 6, 128]),
      shape: [1, 2, 4],
      dtype: "uint8",
    };
    const dropped = decodeChallengeCase(
      new Map([
        ["imgs", rgba],
        ["boxes", boxes2d([0, 0, 1, 0])],
      ]),
      "a",
    );
    if (dropped.kind !== "2d") throw new Error("expected 2d");
    expect(dropped.image.channels).toBe(3);
    expect(Array.from(dropped.image.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("converts non-uint8 images to Float32Array (bool as 0/1, BigInt as numbers)", () => {
    const flags: NdArray = { data: new Uint8Array([1, 0, 1, 1]), shape: [2, 2], dtype: "bool" };
    const fromBool = decodeChallengeCase(
      new Map([
        ["imgs", flags],
        ["boxes", boxes2d([0, 0, 1, 1])],
      ]),
      "b",
    );
    expect(fromBool.kind === "2d" && fromBool.image.data).toEqual(new Float32Array([1, 0, 1, 1]));
    const wide: NdArray = { data: new BigInt64Array([-5n, 7n]), shape: [1, 2], dtype: "int64" };
    const fromInt64 = decodeChallengeCase(
      new Map([
        ["imgs", wide],
        ["boxes", boxes2d([0, 0, 1, 0])],
      ]),
      "i",
    );
    expect(fromInt64.kind === "2d" && fromInt64.image.data).toEqual(new Float32Array([-5, 7]));
  });

  it("accepts a single box given as shape (4,) or (6,)", () => {
    const single2d = decodeChallengeCase(
      new Map([
        ["imgs", u8([4, 4])],
        ["boxes", f64([0, 1, 2, 3])],
      ]),
      "s",
    );
    expect(single2d.boxes).toEqual([[0, 1, 2, 3]]);
    const single3d = decodeChallengeCase(
      new Map([
        ["imgs", u8([2, 4, 4])],
        ["boxes", f64([0, 1, 0, 2, 3, 1])],
        ["spacing", f64([1, 1, 1])],
      ]),
      "s",
    );
    expect(single3d.boxes).toEqual([[0, 1, 0, 2, 3, 1]]);
  });

  it("keeps non-integral box coordinates and clamps a max equal to the size", () => {
    const decoded = decodeChallengeCase(
      new Map([
        ["imgs", u8([10, 20])],
        ["boxes", boxes2d([0.5, 1.25, 20, 10], [3, 4, 19.5, 9])],
      ]),
      "c",
    );
    expect(decoded.boxes).toEqual([
      [0.5, 1.25, 19, 9],
      [3, 4, 19, 9],
    ]);
    const volume = decodeChallengeCase(
      new Map([
        ["imgs", u8([3, 4, 5])],
        ["boxes", boxes3d([0, 0, 0, 5, 4, 3])],
        ["spacing", f64([1, 1, 1])],
      ]),
      "v",
    );
    expect(volume.boxes).toEqual([[0, 0, 0, 4, 3, 2]]);
  });

  it("keeps optional 2D spacing", () => {
    const decoded = decodeChallengeCase(
      new Map([
        ["imgs", u8([4, 4])],
        ["boxes", boxes2d([0, 0, 1, 1])],
        ["spacing", f64([0.5, 0.25])],
      ]),
      "s",
    );
    expect(decoded.kind === "2d" && decoded.spacing).toEqual([0.5, 0.25]);
  });
});

describe("decodeChallengeCase rejects bad cases with one line naming the file", () => {
  const spacing = f64([1, 1, 1]);

  it("missing keys list what is present", () => {
    expect(problem({ boxes: boxes2d([0, 0, 1, 1]), gts: u8([2, 2]) })).toBe(
      "case.npz: missing 'imgs' (keys present: 'boxes', 'gts')",
    );
    expect(problem({ imgs: u8([2, 2]) })).toBe("case.npz: missing 'boxes' (keys present: 'imgs')");
    expect(problem({})).toBe("case.npz: missing 'imgs' (keys present: none)");
  });

  it("wrong image dimensions", () => {
    expect(problem({ imgs: u8([5]), boxes: boxes2d([0, 0, 1, 1]) })).toBe(
      "case.npz: imgs must have shape (H,W), (H,W,3) or (D,H,W), got (5,)",
    );
    expect(problem({ imgs: u8([1, 2, 3, 4]), boxes: boxes2d([0, 0, 1, 1]) })).toBe(
      "case.npz: imgs must have shape (H,W), (H,W,3) or (D,H,W), got (1, 2, 3, 4)",
    );
    expect(problem({ imgs: u8([0, 4]), boxes: boxes2d([0, 0, 1, 1]) })).toBe(
      "case.npz: imgs has an empty dimension: shape (0, 4)",
    );
  });

  it("2D boxes with a volume, 3D boxes with a 2D image", () => {
    expect(problem({ imgs: u8([5, 6, 7]), boxes: boxes2d([0, 0, 1, 1]), spacing })).toBe(
      "case.npz: boxes have 4 coordinates (2D) but imgs has shape (5, 6, 7); " +
        "a 2D case needs imgs (H,W), (H,W,1), (H,W,3) or (H,W,4), a 3D case boxes (N,6)",
    );
    expect(problem({ imgs: u8([6, 7]), boxes: boxes3d([0, 0, 0, 1, 1, 1]) })).toBe(
      "case.npz: boxes have 6 coordinates (3D) but imgs has shape (6, 7); a 3D case needs imgs (D,H,W)",
    );
  });

  it("bad box shapes and dtypes", () => {
    expect(problem({ imgs: u8([4, 4]), boxes: f64([0, 0, 1, 1, 2], [1, 5]) })).toBe(
      "case.npz: boxes must have shape (N,4) for 2D or (N,6) for 3D, got (1, 5)",
    );
    expect(
      problem({ imgs: u8([4, 4]), boxes: { data: new Uint8Array(4), shape: [1, 4], dtype: "bool" } }),
    ).toBe("case.npz: boxes must be numeric, got dtype bool");
  });

  it("no boxes, too many boxes", () => {
    expect(problem({ imgs: u8([4, 4]), boxes: f64([], [0, 4]) })).toBe("case.npz: no boxes");
    expect(
      problem(
        { imgs: u8([4, 4]), boxes: boxes2d([0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 1, 1]) },
        { maxBoxes: 2 },
      ),
    ).toBe("case.npz: too many boxes: 3, the limit is 2");
    const many = f64(new Array<number>(1001 * 4).fill(0), [1001, 4]);
    expect(problem({ imgs: u8([4, 4]), boxes: many })).toBe(
      "case.npz: too many boxes: 1001, the limit is 1000",
    );
  });

  it("images over the voxel limit", () => {
    expect(
      problem({ imgs: u8([3, 4, 5]), boxes: boxes3d([0, 0, 0, 1, 1, 1]), spacing }, { maxVoxels: 59 }),
    ).toBe("case.npz: imgs is too large: (3, 4, 5) has 60 voxels, the limit is 59");
    expect(problem({ imgs: u8([4, 5, 3]), boxes: boxes2d([0, 0, 1, 1]) }, { maxVoxels: 19 })).toBe(
      "case.npz: imgs is too large: (4, 5, 3) has 20 voxels, the limit is 19",
    );
  });

  it("inverted boxes name the box and the axis", () => {
    expect(
      problem({ imgs: u8([10, 10]), boxes: boxes2d([0, 0, 5, 5], [0, 0, 5, 5], [0, 0, 5, 5], [6, 0, 5, 5]) }),
    ).toBe("case.npz: box 3 is inverted: [6, 0, 5, 5] has x0 > x1");
    expect(problem({ imgs: u8([10, 10]), boxes: boxes2d([0, 6, 5, 5]) })).toBe(
      "case.npz: box 0 is inverted: [0, 6, 5, 5] has y0 > y1",
    );
    expect(problem({ imgs: u8([4, 10, 10]), boxes: boxes3d([0, 0, 3, 5, 5, 2]), spacing })).toBe(
      "case.npz: box 0 is inverted: [0, 0, 3, 5, 5, 2] has z0 > z1",
    );
  });

  it("boxes outside the image", () => {
    const imgs = u8([10, 20]); // W×H = 20×10
    expect(problem({ imgs, boxes: boxes2d([0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 21, 5]) })).toBe(
      "case.npz: box 2 [0, 0, 21, 5] lies outside the image (W×H = 20×10)",
    );
    expect(problem({ imgs, boxes: boxes2d([-1, 0, 3, 3]) })).toBe(
      "case.npz: box 0 [-1, 0, 3, 3] lies outside the image (W×H = 20×10)",
    );
    expect(problem({ imgs, boxes: boxes2d([0, 10, 5, 10]) })).toBe(
      "case.npz: box 0 [0, 10, 5, 10] lies outside the image (W×H = 20×10)",
    );
    expect(problem({ imgs: u8([4, 10, 20]), boxes: boxes3d([0, 0, 0, 5, 5, 5]), spacing })).toBe(
      "case.npz: box 0 [0, 0, 0, 5, 5, 5] lies outside the image (W×H×D = 20×10×4)",
    );
  });

  it("non-finite box coordinates", () => {
    expect(problem({ imgs: u8([10, 10]), boxes: boxes2d([0, NaN, 5, 5]) })).toBe(
      "case.npz: box 0 [0, NaN, 5, 5] has a non-finite coordinate",
    );
  });

  it("NaN, Inf and float32 overflow in imgs name the element", () => {
    const image = (values: number[]): NdArray => ({
      data: new Float64Array(values),
      shape: [2, 3],
      dtype: "float64",
    });
    const boxes = boxes2d([0, 0, 1, 1]);
    expect(problem({ imgs: image([0, 0, 0, 0, NaN, 0]), boxes })).toBe(
      "case.npz: imgs contains NaN at [1, 1]",
    );
    expect(problem({ imgs: image([0, -Infinity, 0, 0, 0, 0]), boxes })).toBe(
      "case.npz: imgs contains -Inf at [0, 1]",
    );
    expect(problem({ imgs: image([0, 0, Infinity, 0, 0, 0]), boxes })).toBe(
      "case.npz: imgs contains +Inf at [0, 2]",
    );
    expect(problem({ imgs: image([0, 0, 0, 1e300, 0, 0]), boxes })).toBe(
      "case.npz: imgs value 1e+300 at [1, 0] is too large for float32",
    );
    const volume: NdArray = { data: new Float32Array(8).fill(NaN, 7), shape: [2, 2, 2], dtype: "float32" };
    expect(problem({ imgs: volume, boxes: boxes3d([0, 0, 0, 1, 1, 1]), spacing })).toBe(
      "case.npz: imgs contains NaN at [1, 1, 1]",
    );
  });

  it("missing or bad spacing", () => {
    const boxes = boxes3d([0, 0, 0, 1, 1, 1]);
    expect(problem({ imgs: u8([2, 2, 2]), boxes })).toBe(
      "case.npz: missing 'spacing' (3,) in mm (z, y, x), required for a 3D case",
    );
    expect(problem({ imgs: u8([2, 2, 2]), boxes, spacing: f64([1, 1]) })).toBe(
      "case.npz: spacing must be 3 numbers (z, y, x) in mm, shape (3,), got float64 (2,)",
    );
    expect(problem({ imgs: u8([2, 2, 2]), boxes, spacing: f64([1, 0, 1]) })).toBe(
      "case.npz: spacing must be finite and > 0, got [1, 0, 1]",
    );
    expect(problem({ imgs: u8([2, 2, 2]), boxes, spacing: f64([1, Infinity, 1]) })).toBe(
      "case.npz: spacing must be finite and > 0, got [1, Infinity, 1]",
    );
    expect(problem({ imgs: u8([2, 2]), boxes: boxes2d([0, 0, 1, 1]), spacing: f64([1, 1, 1]) })).toBe(
      "case.npz: spacing must be 2 numbers (y, x) in mm, shape (2,), got float64 (3,)",
    );
  });

  it("2D images with an unsupported channel count", () => {
    expect(problem({ imgs: u8([4, 4, 2]), boxes: boxes2d([0, 0, 1, 1]) })).toMatch(
      /^case\.npz: boxes have 4 coordinates \(2D\) but imgs has shape \(4, 4, 2\)/,
    );
  });
});

describe("encodeSegmentationNpz", () => {
  it("writes 'segs' as compressed uint16 plus extra arrays", () => {
    const segs = Uint16Array.from({ length: 24 }, (_, i) => (i % 5 === 0 ? 300 : 0));
    const bytes = encodeSegmentationNpz(segs, [2, 3, 4], { spacing: f64([1, 2, 3]) });
    const back = readNpz(bytes);
    expect(back.get("segs")).toEqual({ data: segs, shape: [2, 3, 4], dtype: "uint16" });
    expect(back.get("spacing")).toEqual(f64([1, 2, 3]));
    expect(bytes[8]).toBe(8); // the first member's local header says: deflate
  });

  it("refuses a shape that does not match the data", () => {
    expect(() => encodeSegmentationNpz(new Uint16Array(5), [2, 3])).toThrow(
      "encodeSegmentationNpz: shape (2, 3) needs 6 values, segs has 5",
    );
  });
});
