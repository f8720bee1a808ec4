import { describe, expect, it } from "vitest";
import { boxDecoder, identityEncoder, intensityInBoxDecoder, MODEL_INPUT_SIZE } from "./oracleModels.js";
import { runOnnx } from "./runOnnx.js";
import { seededRandom } from "./syntheticModels.js";

const S = MODEL_INPUT_SIZE;
type Box = [number, number, number, number];

/** The oracle's margin along one axis, in the same float32 operation order as the ONNX graph. */
function axisMargins(lo: number, hi: number): Float32Array {
  const f = Math.fround;
  const [low, high] = [f(lo), f(hi)]; // the model reads float32 boxes
  return Float32Array.from({ length: S }, (_, i) => Math.min(f(f(i - low) + 0.5), f(f(high + 0.5) - i)));
}

function expectedMargin(box: Box, x: number, y: number): number {
  return Math.min(axisMargins(box[0], box[2])[x]!, axisMargins(box[1], box[3])[y]!);
}

function countDifferences(a: Float32Array, b: Float32Array): number {
  let differences = Math.abs(a.length - b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) differences++;
  return differences;
}

function boxesTensor(boxes: readonly Box[]) {
  return { data: Float32Array.from(boxes.flat()), dims: [1, boxes.length, 4] };
}

const BORDER_BOXES: Box[] = [
  [0, 0, 255, 255],
  [0, 0, 0, 0],
  [255, 255, 255, 255],
  [250, 3, 255, 9],
  [0, 100, 4, 255],
  [10, 20, 30, 40],
  [7, 100, 7, 180],
];

function randomBoxes(count: number, seed: number): Box[] {
  const random = seededRandom(seed);
  const boxes: Box[] = [...BORDER_BOXES];
  while (boxes.length < count) {
    const x0 = Math.floor(random() * S);
    const y0 = Math.floor(random() * S);
    boxes.push([
      x0,
      y0,
      Math.min(S - 1, x0 + Math.floor(random() * 80)),
      Math.min(S - 1, y0 + Math.floor(random() * 80)),
    ]);
  }
  return boxes.slice(0, count);
}

describe("identityEncoder", () => {
  it("returns the image itself as the embedding", async () => {
    const encoder = identityEncoder();
    expect(encoder.embeddingShape).toEqual([3, S, S]);
    const random = seededRandom(3);
    const image = Float32Array.from({ length: 3 * S * S }, () => random());
    const out = await runOnnx(encoder.bytes, { image: { data: image, dims: [1, 3, S, S] } });
    expect(out.embedding!.dims).toEqual([1, 3, S, S]);
    expect(countDifferences(out.embedding!.data, image)).toBe(0);
  });
});

describe("boxDecoder", () => {
  const decoder = boxDecoder();
  const embedding = { data: new Float32Array(3 * S * S), dims: [1, 3, S, S] };

  async function checkBoxes(boxes: Box[]) {
    const out = await runOnnx(decoder.bytes, { embedding, boxes: boxesTensor(boxes) });
    expect(out.logits!.dims).toEqual([1, boxes.length, S, S]);
    expect(out.iou!.dims).toEqual([1, boxes.length]);
    expect([...out.iou!.data]).toEqual(boxes.map(() => 1));
    const logits = out.logits!.data;
    boxes.forEach((box, n) => {
      const [xMargins, yMargins] = [axisMargins(box[0], box[2]), axisMargins(box[1], box[3])];
      let wrong = 0;
      let inside = 0;
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) {
          const value = logits[(n * S + y) * S + x] as number;
          const isInside = x >= box[0] && x <= box[2] && y >= box[1] && y <= box[3];
          if (value !== Math.min(xMargins[x]!, yMargins[y]!) || value > 0 !== isInside) wrong++;
          if (value > 0) inside++;
        }
      }
      expect(wrong, `box ${n} [${box.join(", ")}]`).toBe(0);
      expect(inside).toBe((box[2] - box[0] + 1) * (box[3] - box[1] + 1));
    });
  }

  it("is positive exactly inside one box covering the whole frame (N=1)", async () => {
    await checkBoxes([[0, 0, 255, 255]]);
  });

  it("is positive exactly inside each of 300 boxes, including boxes touching the border", async () => {
    await checkBoxes(randomBoxes(300, 11));
  });

  it("follows the margin formula for fractional corners", async () => {
    const boxes: Box[] = [
      [10.3, 20.7, 30.5, 40.2],
      [-3.2, 250.5, 0.4, 260],
    ];
    const out = await runOnnx(decoder.bytes, { embedding, boxes: boxesTensor(boxes) });
    boxes.forEach((box, n) => {
      for (const [x, y] of [
        [10, 21],
        [9, 21],
        [31, 40],
        [30, 40],
        [0, 251],
        [0, 255],
        [1, 255],
      ] as const) {
        expect(out.logits!.data[(n * S + y) * S + x]).toBe(expectedMargin(box, x, y));
      }
    });
  });
});

describe("intensityInBoxDecoder", () => {
  /** Channel 0: a bright disc (0.9) of radius 40 at (128, 128) on 0.1, with one pixel exactly at 0.5. */
  function discImage(): Float32Array {
    const image = new Float32Array(3 * S * S);
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const bright = (x - 128) ** 2 + (y - 128) ** 2 <= 40 ** 2;
        for (let c = 0; c < 3; c++) image[(c * S + y) * S + x] = c === 0 ? (bright ? 0.9 : 0.1) : 0.7;
      }
    }
    image[128 * S + 128] = 0.5;
    return image;
  }

  it("marks the bright pixels inside each box, after the identity encoder", async () => {
    const image = discImage();
    const embedding = (await runOnnx(identityEncoder().bytes, { image: { data: image, dims: [1, 3, S, S] } }))
      .embedding!;
    const boxes: Box[] = [
      [100, 100, 160, 160],
      [0, 0, 255, 255],
      [0, 0, 50, 50],
      [128, 90, 255, 128],
    ];
    for (const threshold of [0.5, 0.05]) {
      const out = await runOnnx(intensityInBoxDecoder({ threshold }).bytes, {
        embedding,
        boxes: boxesTensor(boxes),
      });
      expect(out.logits!.dims).toEqual([1, boxes.length, S, S]);
      expect([...out.iou!.data]).toEqual([1, 1, 1, 1]);
      boxes.forEach((box, n) => {
        let wrong = 0;
        for (let y = 0; y < S; y++) {
          for (let x = 0; x < S; x++) {
            const isInside = x >= box[0] && x <= box[2] && y >= box[1] && y <= box[3];
            const expected = isInside && (image[y * S + x] as number) > threshold;
            if ((out.logits!.data[(n * S + y) * S + x] as number) > 0 !== expected) wrong++;
          }
        }
        expect(wrong, `threshold ${threshold}, box ${n}`).toBe(0);
      });
    }
  });
});
