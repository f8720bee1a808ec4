#!/usr/bin/env node
// Large inputs as clinics have them, for side-by-side runs of what only large inputs exercise (not a test): the
// benchmark cases of cases.mjs are challenge-sized (1024² pictures, uint8 volumes), but a dermatoscope's photo is
// 6000×4000 and a CT series arrives as int16 Hounsfield units in a .nii.gz.
//   node bench/largeInputs.mjs            → bench/out/large/, then prints the abSegment commands that use them
// Deterministic; written once (delete the folder to rebuild). Needs the built packages (npm run build).
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeDicomFile, encodePngImage, writeNifti, writeNpz } from "@daft/core";
import "@daft/node"; // installs node:zlib for the writers
import { noise } from "./cases.mjs";

const root = new URL("..", import.meta.url).pathname;
const dir = join(root, "bench/out/large");
mkdirSync(dir, { recursive: true });

function prng(seed) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function write(file, bytes) {
  const path = join(dir, file);
  writeFileSync(`${path}.tmp`, bytes);
  renameSync(`${path}.tmp`, path);
}

// A dermoscopy photo, 6000×4000 RGB: skin with a slow shading, a brown lesion (ellipse 2600×2400 px, darker
// towards its centre, irregular edge), noise. One box: the lesion's bounding box.
const PHOTO = "2DBox_Dermoscopy_bench_6000x4000.npz";
const PHOTO_PNG = "dermoscopy_bench_6000x4000.png"; // the same photo as a picture file (--box, --modality)
let photoBox = "1626,825,4374,3307"; // the lesion's bounding box, as the generator below finds it
if (!existsSync(join(dir, PHOTO)) || !existsSync(join(dir, PHOTO_PNG))) {
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
  write(PHOTO_PNG, encodePngImage({ width: W, height: H, data: img, channels: 3 }, 6));
  photoBox = [x0, y0, x1, y1].join(",");
}

// A CT series, 300×512×512 int16 HU (x, y, z spacing 0.7, 0.7, 1.0 mm): air around a body cylinder of fat and
// soft tissue, an ellipsoid organ of 60 HU (200 slices), noise σ 15 HU. The organ's box is printed below. Written
// as a .nii.gz and as a DICOM series (one uncompressed file per slice, signed 16-bit, as scanners export CT).
const CT = "ct_bench_300x512x512.nii.gz";
const CT_DICOM = "ct_bench_300x512x512_dicom";
const CT_BOX = "150,170,50,361,341,249";
const [X, Y, Z] = [512, 512, 300];
let hu;
function ctVolume() {
  if (hu) return hu;
  const random = prng(28);
  hu = new Int16Array(X * Y * Z);
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
  return hu;
}
if (!existsSync(join(dir, CT))) {
  const affine = [
    [-0.7, 0, 0, 180],
    [0, -0.7, 0, 180],
    [0, 0, 1, -150],
    [0, 0, 0, 1],
  ];
  write(CT, writeNifti(ctVolume(), [X, Y, Z], { affine, gzip: true }));
}
if (!existsSync(join(dir, CT_DICOM))) {
  const volume = ctVolume();
  const tmp = join(dir, `${CT_DICOM}.tmp`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  const uid = "1.2.826.0.1.3680043.8.498.2027";
  const ui = (tag, value) => ({ tag, vr: "UI", value });
  const ds = (tag, ...values) => ({ tag, vr: "DS", value: values.map(String) });
  const us = (tag, value) => ({ tag, vr: "US", value: [value] });
  for (let z = 0; z < Z; z++) {
    const sop = `${uid}.3.${z + 1}`;
    // The same LPS placement as the NIfTI's RAS affine: x and y flip sign between the two frames.
    const slice = volume.subarray(z * X * Y, (z + 1) * X * Y);
    const dataSet = [
      ui(0x00080016, "1.2.840.10008.5.1.4.1.1.2"),
      ui(0x00080018, sop),
      { tag: 0x00080060, vr: "CS", value: "CT" },
      { tag: 0x00100010, vr: "PN", value: "Bench^Large" },
      { tag: 0x00100020, vr: "LO", value: "BENCH27" },
      ds(0x00180050, 1),
      ui(0x0020000d, `${uid}.1`),
      ui(0x0020000e, `${uid}.2`),
      { tag: 0x00200013, vr: "IS", value: String(z + 1) },
      ds(0x00200032, -180, -180, -150 + z),
      ds(0x00200037, 1, 0, 0, 0, 1, 0),
      ui(0x00200052, `${uid}.9`),
      us(0x00280002, 1),
      { tag: 0x00280004, vr: "CS", value: "MONOCHROME2" },
      us(0x00280010, Y),
      us(0x00280011, X),
      ds(0x00280030, 0.7, 0.7),
      us(0x00280100, 16),
      us(0x00280101, 16),
      us(0x00280102, 15),
      us(0x00280103, 1),
      ds(0x00281052, 0),
      ds(0x00281053, 1),
      { tag: 0x7fe00010, vr: "OW", value: new Uint8Array(slice.buffer, slice.byteOffset, slice.byteLength) },
    ];
    const meta = {
      mediaStorageSOPClassUID: "1.2.840.10008.5.1.4.1.1.2",
      mediaStorageSOPInstanceUID: sop,
      implementationClassUID: `${uid}.0`,
    };
    writeFileSync(join(tmp, `IM${String(z + 1).padStart(4, "0")}.dcm`), encodeDicomFile(meta, dataSet));
  }
  renameSync(tmp, join(dir, CT_DICOM));
}

console.log(`inputs in ${dir}; side by side against a commit:
  node bench/abSegment.mjs --a <ref> --repeats 5 ${join("bench/out/large", PHOTO)}
  node bench/abSegment.mjs --a <ref> --repeats 5 --a-args="--box ${photoBox} --modality Dermoscopy" \\
    --b-args="--box ${photoBox} --modality Dermoscopy" ${join("bench/out/large", PHOTO_PNG)}
  node bench/abSegment.mjs --a <ref> --repeats 3 --a-args="--box ${CT_BOX} --modality CT" \\
    --b-args="--box ${CT_BOX} --modality CT" ${join("bench/out/large", CT)}
  node bench/abSegment.mjs --a <ref> --repeats 3 --a-args="--box ${CT_BOX}" --b-args="--box ${CT_BOX}" \\
    ${join("bench/out/large", CT_DICOM)}`);
