#!/usr/bin/env node
// Large inputs as clinics have them, for side-by-side runs of what only large inputs exercise (not a test): the
// benchmark cases of cases.mjs are challenge-sized (1024² pictures, uint8 volumes), but a dermatoscope's photo is
// 6000×4000 and a CT series arrives as int16 Hounsfield units in a .nii.gz.
//   node bench/largeInputs.mjs            → bench/out/large/, then prints the abSegment commands that use them
// Deterministic; written once (delete the folder to rebuild). Needs the built packages (npm run build).
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeNifti, writeNpz } from "@daft/core";
import "@daft/node"; // installs node:zlib for the writers

const root = new URL("..", import.meta.url).pathname;
const dir = join(root, "bench/out/large");
mkdirSync(dir, { recursive: true });

function prng(seed) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}
const noise = (random) => (random() + random() + random() - 1.5) * 2;

function write(file, bytes) {
  const path = join(dir, file);
  writeFileSync(`${path}.tmp`, bytes);
  renameSync(`${path}.tmp`, path);
}

// A dermoscopy photo, 6000×4000 RGB: skin with a slow shading, a brown lesion (ellipse 2600×2400 px, darker
// towards its centre, irregular edge), noise. One box: the lesion's bounding box.
const PHOTO = "2DBox_Dermoscopy_bench_6000x4000.npz";
if (!existsSync(join(dir, PHOTO))) {
  const [W, H] = [6000, 4000];
  const random = prng(27);
  const img = new Uint8Array(W * H * 3);
  const [cx, cy, rx, ry] = [3000, 2000, 1300, 1200];
  let [x0, y0, x1, y1] = [W, H, -1, -1];
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const dx = (x - cx) / rx;
      const dy = (y - cy) / ry;
      const angle = Math.atan2(dy, dx);
      const edge = 1 + 0.06 * Math.sin(5 * angle) + 0.03 * Math.sin(13 * angle);
      const r = Math.sqrt(dx * dx + dy * dy) / edge;
      const inside = r < 1;
      if (inside) {
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x);
        y1 = Math.max(y1, y);
      }
      const shade = 0.9 + 0.1 * Math.cos(x / 1500) * Math.cos(y / 1100);
      const n = noise(random) * 6;
      const [R, G, B] = inside ? [120 + 60 * r, 70 + 50 * r, 45 + 40 * r] : [225, 180, 160];
      const at = (y * W + x) * 3;
      img[at] = Math.max(0, Math.min(255, Math.round(R * shade + n)));
      img[at + 1] = Math.max(0, Math.min(255, Math.round(G * shade + n)));
      img[at + 2] = Math.max(0, Math.min(255, Math.round(B * shade + n)));
    }
  }
  const boxes = { data: Int32Array.from([x0, y0, x1, y1]), shape: [1, 4], dtype: "int32" };
  write(
    PHOTO,
    writeNpz({ imgs: { data: img, shape: [H, W, 3], dtype: "uint8" }, boxes }, { compress: true }),
  );
}

// A CT series, 300×512×512 int16 HU (x, y, z spacing 0.7, 0.7, 1.0 mm): air around a body cylinder of fat and
// soft tissue, an ellipsoid organ of 60 HU (200 slices), noise σ 15 HU. The organ's box is printed below.
const CT = "ct_bench_300x512x512.nii.gz";
const CT_BOX = "150,170,50,361,341,249";
if (!existsSync(join(dir, CT))) {
  const [X, Y, Z] = [512, 512, 300];
  const random = prng(28);
  const hu = new Int16Array(X * Y * Z);
  for (let z = 0; z < Z; z++) {
    for (let y = 0; y < Y; y++) {
      for (let x = 0; x < X; x++) {
        const body = ((x - 256) / 230) ** 2 + ((y - 256) / 190) ** 2 < 1;
        const organ = ((x - 256) / 105) ** 2 + ((y - 256) / 85) ** 2 + ((z - 150) / 100) ** 2 < 1;
        const base = organ ? 60 : body ? (((x >> 4) + (y >> 4)) % 3 === 0 ? -90 : 40) : -1000;
        hu[(z * Y + y) * X + x] = Math.round(base + noise(random) * 15);
      }
    }
  }
  const affine = [
    [-0.7, 0, 0, 180],
    [0, -0.7, 0, 180],
    [0, 0, 1, -150],
    [0, 0, 0, 1],
  ];
  write(CT, writeNifti(hu, [X, Y, Z], { affine, gzip: true }));
}

console.log(`inputs in ${dir}; side by side against a commit:
  node bench/abSegment.mjs --a <ref> --repeats 5 ${join("bench/out/large", PHOTO)}
  node bench/abSegment.mjs --a <ref> --repeats 3 --a-args="--box ${CT_BOX} --modality CT" \\
    --b-args="--box ${CT_BOX} --modality CT" ${join("bench/out/large", CT)}`);
