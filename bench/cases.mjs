// Challenge-format benchmark cases (.npz with imgs, boxes[, spacing]) with plausible content:
// 2D RGB 1024×1024 "cells" (ellipses 10–200 px on a smooth textured background) and 3D uint8
// volumes with smooth ellipsoid "organs" (z extents 20–80 slices, centred in the middle half of the
// scan like organs of one body region) in a body-like cylinder, plus noise.
// Every box is the bounding box of one object, max corner inclusive. Deterministic per case.
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** Bump when the generated content changes, so cached case files are rebuilt. */
const GENERATOR_VERSION = 2;

/** The benchmark cases; `official_s` is the official LiteMedSAM pipeline on the 2-core reference machine. */
export const CASES = [
  { id: "2d-1box", file: "2DBox_Dermoscopy_bench_1box.npz", kind: "2d", size: 1024, boxes: 1, seed: 101 },
  {
    id: "2d-50boxes",
    file: "2DBox_Microscopy_bench_50boxes.npz",
    kind: "2d",
    size: 1024,
    boxes: 50,
    seed: 102,
  },
  {
    id: "2d-241boxes",
    file: "2DBox_Microscopy_bench_241boxes.npz",
    kind: "2d",
    size: 1024,
    boxes: 241,
    seed: 103,
  },
  {
    id: "3d-115x400x400",
    file: "3DBox_CT_bench_115x400x400.npz",
    kind: "3d",
    shape: [115, 400, 400],
    spacing: [2.5, 0.8, 0.8],
    boxes: 6,
    seed: 104,
  },
  {
    id: "3d-287x512x512",
    file: "3DBox_MR_bench_287x512x512.npz",
    kind: "3d",
    shape: [287, 512, 512],
    spacing: [1.5, 0.7, 0.7],
    boxes: 6,
    seed: 105,
  },
];

/** Cases of a --quick run: one of each kind, small enough for a smoke test. */
export const QUICK_CASE_IDS = ["2d-1box", "2d-50boxes", "3d-115x400x400"];

/** Gaussian-ish noise from a uniform PRNG (sum of three uniforms, variance 1/4, scaled to unit). */
export function noise(random) {
  return (random() + random() + random() - 1.5) * 2;
}

const clampByte = (v) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** Log-uniform size in [lo, hi]. */
function logUniform(random, lo, hi) {
  return Math.exp(Math.log(lo) + random() * (Math.log(hi) - Math.log(lo)));
}

export function makeCase2D(spec, random) {
  const { size } = spec;
  const rgb = new Float32Array(size * size * 3);
  const tint = [0.8 + 0.4 * random(), 0.7 + 0.3 * random(), 0.8 + 0.4 * random()];
  const [fx, fy] = [20 + 60 * random(), 20 + 60 * random()];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const base = 70 + 25 * Math.sin(x / fx) * Math.cos(y / fy) + (30 * (x + y)) / (2 * size);
      for (let c = 0; c < 3; c++) rgb[(y * size + x) * 3 + c] = base * tint[c];
    }
  }
  const boxes = new Int32Array(spec.boxes * 4);
  for (let n = 0; n < spec.boxes; n++) {
    const width = Math.round(logUniform(random, 10, 200));
    const height = Math.round(Math.min(200, Math.max(10, width * (0.5 + random()))));
    const x0 = Math.floor(random() * (size - width));
    const y0 = Math.floor(random() * (size - height));
    const [x1, y1] = [x0 + width - 1, y0 + height - 1];
    boxes.set([x0, y0, x1, y1], n * 4);
    const color = [120 + 130 * random(), 60 + 150 * random(), 90 + 160 * random()];
    const [cx, cy, rx, ry] = [(x0 + x1) / 2, (y0 + y1) / 2, width / 2, height / 2];
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const r2 = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2;
        if (r2 > 1) continue;
        const shade = 0.75 + 0.25 * (1 - r2); // brighter core, like a stained nucleus
        for (let c = 0; c < 3; c++) rgb[(y * size + x) * 3 + c] = color[c] * shade;
      }
    }
  }
  const imgs = new Uint8Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) imgs[i] = clampByte(rgb[i] + 6 * noise(random));
  return {
    arrays: {
      imgs: { data: imgs, shape: [size, size, 3], dtype: "uint8" },
      boxes: { data: boxes, shape: [spec.boxes, 4], dtype: "int32" },
    },
    facts: {},
  };
}

export function makeCase3D(spec, random) {
  const [depth, height, width] = spec.shape;
  const plane = height * width;
  // Body: an elliptic cylinder with smooth in-plane texture, dimmer towards both ends in z.
  const body = new Float32Array(plane);
  const [fx, fy] = [30 + 40 * random(), 30 + 40 * random()];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const r2 = ((x - width / 2) / (0.45 * width)) ** 2 + ((y - height / 2) / (0.4 * height)) ** 2;
      body[y * width + x] = r2 > 1 ? 5 : 70 + 20 * Math.sin(x / fx) * Math.sin(y / fy);
    }
  }
  const volume = new Float32Array(depth * plane);
  for (let z = 0; z < depth; z++) {
    const fade = 0.8 + 0.2 * Math.sin((Math.PI * (z + 0.5)) / depth);
    for (let i = 0; i < plane; i++) volume[z * plane + i] = body[i] * fade;
  }
  const boxes = new Int32Array(spec.boxes * 6);
  for (let n = 0; n < spec.boxes; n++) {
    const zExtent = 20 + Math.floor(random() * 61); // 20–80 slices
    const rz = (zExtent - 1) / 2;
    const rx = logUniform(random, 10, 60);
    const ry = rx * (0.6 + 0.8 * random());
    const zLow = Math.max(rz, depth / 4);
    const zHigh = Math.min(depth - 1 - rz, (3 * depth) / 4);
    const cz = zLow <= zHigh ? zLow + random() * (zHigh - zLow) : (depth - 1) / 2;
    const cx = width * 0.2 + rx + random() * (width * 0.6 - 2 * rx);
    const cy = height * 0.2 + ry + random() * (height * 0.6 - 2 * ry);
    const peak = 140 + 100 * random();
    const [x0, y0, z0] = [Math.ceil(cx - rx), Math.ceil(cy - ry), Math.ceil(cz - rz)];
    const [x1, y1, z1] = [Math.floor(cx + rx), Math.floor(cy + ry), Math.floor(cz + rz)];
    boxes.set([x0, y0, z0, x1, y1, z1], n * 6);
    for (let z = z0; z <= z1; z++) {
      for (let y = y0; y <= y1; y++) {
        for (let x = x0; x <= x1; x++) {
          const r2 = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 + ((z - cz) / Math.max(rz, 0.5)) ** 2;
          if (r2 > 1) continue;
          const i = (z * height + y) * width + x;
          volume[i] = Math.max(volume[i], peak * (1 - 0.3 * r2)); // smooth falloff to the rim
        }
      }
    }
  }
  const imgs = new Uint8Array(volume.length);
  for (let i = 0; i < volume.length; i++) imgs[i] = clampByte(volume[i] + 5 * noise(random));
  return {
    arrays: {
      imgs: { data: imgs, shape: [depth, height, width], dtype: "uint8" },
      boxes: { data: boxes, shape: [spec.boxes, 6], dtype: "int32" },
      spacing: { data: Float64Array.from(spec.spacing), shape: [3], dtype: "float64" },
    },
    facts: { zReuseBound: zReuseBound(boxes) },
  };
}

/**
 * Σ box z extents ÷ slices covered by any box: how many times fewer encoder runs a per-slice embedding
 * cache can need than re-encoding each box's slices. It caps the 3D cache speed-up on encoding.
 */
export function zReuseBound(boxes) {
  const covered = new Set();
  let total = 0;
  for (let i = 0; i < boxes.length; i += 6) {
    for (let z = boxes[i + 2]; z <= boxes[i + 5]; z++) covered.add(z);
    total += boxes[i + 5] - boxes[i + 2] + 1;
  }
  return total / covered.size;
}

/**
 * Writes every case into `dir` unless the file there came from the same generator version
 * (recorded per file, with facts about its boxes, in generator.json). Returns the specs with
 * their `path` and `facts`.
 */
export async function ensureCases(dir, specs, { writeNpz, seededRandom, log }) {
  await mkdir(dir, { recursive: true });
  const stampPath = join(dir, "generator.json");
  const stamps = existsSync(stampPath) ? JSON.parse(await readFile(stampPath, "utf8")) : {};
  const out = [];
  for (const spec of specs) {
    const path = join(dir, spec.file);
    if (stamps[spec.file]?.version !== GENERATOR_VERSION || !existsSync(path)) {
      const started = performance.now();
      const random = seededRandom(spec.seed);
      const { arrays, facts } = spec.kind === "2d" ? makeCase2D(spec, random) : makeCase3D(spec, random);
      const bytes = writeNpz(arrays, { compress: true });
      const temp = `${path}.${process.pid}.tmp`;
      await writeFile(temp, bytes);
      await rename(temp, path);
      stamps[spec.file] = { version: GENERATOR_VERSION, facts };
      await writeFile(stampPath, `${JSON.stringify(stamps, null, 2)}\n`);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      log(`generated ${spec.file} (${(bytes.length / 1e6).toFixed(1)} MB in ${seconds} s)`);
    }
    out.push({ ...spec, path, facts: stamps[spec.file].facts });
  }
  return out;
}
