/** An RGB picture, interleaved, 8-bit. */
export interface RgbPicture {
  data: Uint8Array;
  width: number;
  height: number;
}

/** An image to draw on: grey (channels 1) or interleaved RGB (3), row-major, any numeric range. */
export interface PictureSource {
  data: ArrayLike<number>;
  width: number;
  height: number;
  channels: number;
}

/** A distinct colour per label (golden-angle hues), stable across runs. */
export function labelColour(label: number): [number, number, number] {
  const h = (label * 137.508) % 360;
  const s = 0.85;
  const v = 1;
  const c = v * s;
  const x = c * (1 - Math.abs(((h / 60) % 2) - 1));
  const m = v - c;
  const [r, g, b] =
    h < 60
      ? [c, x, 0]
      : h < 120
        ? [x, c, 0]
        : h < 180
          ? [0, c, x]
          : h < 240
            ? [0, x, c]
            : h < 300
              ? [x, 0, c]
              : [c, 0, x];
  return [Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)];
}

/**
 * The image with each label tinted (alpha `fill`) and outlined in its colour, and optional prompt boxes drawn as
 * dashed rectangles. `image` is grey (channels 1) or RGB (3), any numeric range (scaled by its min/max).
 */
export function drawOverlay(
  image: PictureSource,
  labels: Uint16Array | Uint8Array,
  opts: { boxes?: { box: [number, number, number, number]; label: number }[]; fill?: number } = {},
): RgbPicture {
  const { width: W, height: H } = image;
  const out = imageToRgb(image).data;
  const fill = opts.fill ?? 0.35;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      const l = labels[p]!;
      if (l === 0) continue;
      const edge = onLabelEdge(labels, x, y, W, H);
      const col = labelColour(l);
      const a = edge ? 1 : fill;
      for (let k = 0; k < 3; k++) out[p * 3 + k] = Math.round(out[p * 3 + k]! * (1 - a) + col[k]! * a);
    }
  }
  for (const { box, label } of opts.boxes ?? []) {
    const col = labelColour(label);
    const [x0, y0, x1, y1] = box.map(Math.round) as [number, number, number, number];
    const dot = (x: number, y: number, i: number) => {
      if (x < 0 || y < 0 || x >= W || y >= H || i % 6 >= 3) return;
      out.set(col, (y * W + x) * 3);
    };
    for (let x = x0; x <= x1; x++) {
      dot(x, y0, x - x0);
      dot(x, y1, x - x0);
    }
    for (let y = y0; y <= y1; y++) {
      dot(x0, y, y - y0);
      dot(x1, y, y - y0);
    }
  }
  return { data: out, width: W, height: H };
}

/** True when pixel (x, y) has a label and lies on the image border or beside a pixel of another label (4-connected). */
export function onLabelEdge(labels: ArrayLike<number>, x: number, y: number, W: number, H: number): boolean {
  const p = y * W + x;
  const l = labels[p]!;
  return (
    l !== 0 &&
    (x === 0 ||
      y === 0 ||
      x === W - 1 ||
      y === H - 1 ||
      labels[p - 1] !== l ||
      labels[p + 1] !== l ||
      labels[p - W] !== l ||
      labels[p + W] !== l)
  );
}

/** A grey (channels 1) or RGB (3) image of any numeric range as an RGB picture, scaled by its min/max. */
export function imageToRgb(image: PictureSource): RgbPicture {
  const { width: W, height: H, channels: C } = image;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < W * H * C; i++) {
    const v = image.data[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const scale = max > min ? 255 / (max - min) : 0;
  const out = new Uint8Array(W * H * 3);
  for (let p = 0; p < W * H; p++) {
    for (let k = 0; k < 3; k++) {
      const v = image.data[p * C + (C === 1 ? 0 : k)]!;
      out[p * 3 + k] = Math.round((v - min) * scale);
    }
  }
  return { data: out, width: W, height: H };
}

/** Side-by-side panels (same height after padding), for 3D cases: one panel per slice shown. */
export function tilePictures(pictures: RgbPicture[], gap = 4): RgbPicture {
  const height = Math.max(...pictures.map((p) => p.height));
  const width = pictures.reduce((s, p) => s + p.width, 0) + gap * (pictures.length - 1);
  const data = new Uint8Array(width * height * 3).fill(255);
  let x0 = 0;
  for (const p of pictures) {
    for (let y = 0; y < p.height; y++)
      data.set(p.data.subarray(y * p.width * 3, (y + 1) * p.width * 3), (y * width + x0) * 3);
    x0 += p.width + gap;
  }
  return { data, width, height };
}
