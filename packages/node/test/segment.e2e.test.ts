/**
 * End to end: the real `daft segment` process on .npz files, with oracle ONNX experts whose right answer is known.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decode as decodePng } from "fast-png";
import { labelColour, readNpz, writeNpz, type NdArray } from "@daft/core";
import {
  boxDecoder,
  identityEncoder,
  intensityInBoxDecoder,
  writeOracleModelDir,
} from "../src/testing/index.js";
import { daft, repoRoot, tempDir } from "./helpers.js";

const u8 = (data: Uint8Array, shape: number[]): NdArray => ({ data, shape, dtype: "uint8" });
const f64 = (values: number[], shape: number[]): NdArray => ({
  data: Float64Array.from(values),
  shape,
  dtype: "float64",
});

let boxModels: string;
let intensityModels: string;

beforeAll(async () => {
  const root = tempDir("daft-models-");
  boxModels = join(root, "box");
  intensityModels = join(root, "intensity");
  // The file-name rules the training package ships (OCT before CT, aliases, …).
  const { filenameRules } = JSON.parse(
    readFileSync(join(repoRoot, "fixtures/manifest/valid.json"), "utf8"),
  ).routing;
  await writeOracleModelDir(
    boxModels,
    { name: "general", encoder: identityEncoder(), decoder: boxDecoder() },
    { filenameRules },
  );
  await writeOracleModelDir(
    intensityModels,
    { name: "general", encoder: identityEncoder(), decoder: intensityInBoxDecoder() },
    { filenameRules },
  );
});

function segsOf(path: string): NdArray {
  const arrays = readNpz(new Uint8Array(readFileSync(path)));
  expect([...arrays.keys()]).toEqual(["segs"]);
  const segs = arrays.get("segs")!;
  expect(segs.dtype).toBe("uint16");
  return segs;
}

describe("daft segment (2D)", () => {
  it("writes exactly the prompted boxes as labels 1..N, same file name, and a timing row", () => {
    const dir = tempDir();
    const H = 256;
    const W = 256;
    const img = new Uint8Array(H * W * 3).map((_, i) => (i * 31) % 256);
    const boxes = [
      [10, 20, 100, 90],
      [50, 60, 200, 250],
      [0, 0, 255, 5],
    ];
    const input = join(dir, "2DBox_Endoscopy_demo.npz");
    writeFileSync(
      input,
      writeNpz({ imgs: u8(img, [H, W, 3]), boxes: f64(boxes.flat(), [3, 4]) }, { compress: true }),
    );
    const out = join(dir, "out");
    const r = daft(["segment", input, "-o", out, "--models", boxModels, "--explain"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2DBox_Endoscopy_demo\.npz: 2D 256×256, 3 box\(es\) → expert "general"/);
    const segs = segsOf(join(out, "2DBox_Endoscopy_demo.npz"));
    expect(segs.shape).toEqual([H, W]);
    const expected = new Uint16Array(H * W);
    boxes.forEach(([x0, y0, x1, y1], i) => {
      for (let y = y0!; y <= y1!; y++) for (let x = x0!; x <= x1!; x++) expected[y * W + x] = i + 1;
    });
    expect(Buffer.from((segs.data as Uint16Array).buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    const csv = readFileSync(join(out, "timings.csv"), "utf8").trim().split("\n");
    expect(csv[0]).toBe(
      "case,modality,expert,route,confidence,boxes,slices,encodes,preprocess_ms,encode_ms,decode_ms,postprocess_ms,io_ms,total_ms",
    );
    expect(csv[1]).toMatch(/^2DBox_Endoscopy_demo\.npz,Endoscopy,general,filename,,3,1,1,/);

    // objects.csv: one row per box with its voxels in the label map and its mask confidence. The oracle's logits
    // are the distance to the box edge + 0.5 px: the ring just inside (0.5) and just outside (-0.5) are doubtful
    // (|logit| < ln 3), the rest of the box sure. Box 1 (91 × 71 px): sure 89 × 69 = 6141, doubtful 320 + 328 in
    // the model frame; masks are clipped to their boxes, so in the label plane only the inner ring (320) is
    // doubtful. Box 2 lies on top of box 1 and only box 1's visible part counts (maskConfidence.ts): the 50 × 30
    // of its sure pixels under box 2 leave (1,421 hidden, 79 doubtful now), 79 of its 320 doubtful ones are hidden.
    const objects = readFileSync(join(out, "objects.csv"), "utf8").trim().split("\n");
    expect(objects[0]).toBe("case,label,expert,voxels,mask_confidence,predicted_iou,name");
    const voxels = [1, 2, 3].map((l) => (segs.data as Uint16Array).filter((v) => v === l).length);
    expect(objects[1]).toBe(
      `2DBox_Endoscopy_demo.npz,1,general,${voxels[0]},${(4641 / (4641 + 648 * (1 - 79 / 320) + 79)).toFixed(4)},1.0000,box 1`,
    );
    expect(objects.slice(2).map((row) => row.split(",").slice(1, 4).join(","))).toEqual([
      `2,general,${voxels[1]}`,
      `3,general,${voxels[2]}`,
    ]);
  });
});

describe("daft segment: edge refinement (--edges, the manifest's edgeRefinement)", () => {
  it("moves the mask's edge onto the image's edge; the manifest's setting is the default, --edges off undoes it", () => {
    const dir = tempDir();
    const [H, W] = [256, 256]; // the model frame itself: the box oracle's mask is the box exactly
    const box = [100, 90, 139, 149];
    // The object in the image is the box grown by 1 px, bright on dark: the bilinear mask misses its rim.
    const object = new Uint8Array(H * W);
    for (let y = box[1]! - 1; y <= box[3]! + 1; y++)
      for (let x = box[0]! - 1; x <= box[2]! + 1; x++) object[y * W + x] = 1;
    const input = join(dir, "2DBox_XRay_rim.npz");
    writeFileSync(
      input,
      writeNpz(
        {
          imgs: u8(
            object.map((v) => 50 + 150 * v),
            [H, W],
          ),
          boxes: f64(box, [1, 4]),
        },
        { compress: true },
      ),
    );
    const refinedModels = join(dir, "refined-models");
    cpSync(boxModels, refinedModels, { recursive: true });
    const manifestPath = join(refinedModels, "manifest.json");
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
    manifest.experts[0].edgeRefinement = { radius: 3, eps: 0.001 };
    writeFileSync(manifestPath, JSON.stringify(manifest));
    // The object overhangs its box: masks clipped to their boxes (the default) could not show the refinement.
    const run = (models: string, ...extra: string[]) => {
      const out = join(dir, `out${models === boxModels ? "" : "-refined"}${extra.join("")}`);
      const r = daft(["segment", input, "-o", out, "--models", models, "--quiet", ...extra]);
      expect([r.code, r.stderr]).toEqual([0, ""]);
      return Array.from(segsOf(join(out, "2DBox_XRay_rim.npz")).data as Uint16Array);
    };
    const boxMask = new Uint16Array(H * W);
    for (let y = box[1]!; y <= box[3]!; y++) for (let x = box[0]!; x <= box[2]!; x++) boxMask[y * W + x] = 1;
    const off = ["--clip-to-box", "off"];
    expect(run(boxModels, ...off)).toEqual(Array.from(boxMask));
    expect(run(boxModels, ...off, "--edges", "3,0.001")).toEqual(Array.from(object));
    expect(run(refinedModels, ...off)).toEqual(Array.from(object));
    expect(run(refinedModels, ...off, "--edges", "off")).toEqual(Array.from(boxMask));
    expect(run(refinedModels)).toEqual(Array.from(boxMask)); // clipped: the refined rim lies outside the box
    const badClip = daft([
      "segment",
      input,
      "-o",
      join(dir, "bad-clip"),
      "--models",
      boxModels,
      "--clip-to-box",
      "yes",
    ]);
    expect(badClip.code).toBe(2);
    expect(badClip.stderr.trim()).toBe("daft segment: --clip-to-box must be one of on, off");
    const bad = daft(["segment", input, "-o", join(dir, "bad"), "--models", boxModels, "--edges", "3"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim()).toMatch(/^daft segment: edge refinement must be "off" or "<radius>,<eps>"/);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(existsSync(join(dir, "bad"))).toBe(false);
  });
});

describe("daft segment: where masks overlap (--overlaps)", () => {
  it("an inner box given before the box holding it stays on top; --overlaps later paints the later box over it", () => {
    const dir = tempDir();
    const [H, W] = [256, 256]; // the model frame itself: the box oracle's masks are the boxes exactly
    // Box 1 (a core) lies inside box 3 (its ring's box); box 2 overlaps box 3 without lying inside it.
    const boxes = [
      [20, 20, 30, 30],
      [40, 5, 70, 25],
      [10, 10, 50, 50],
    ];
    const input = join(dir, "2DBox_MR_nested.npz");
    writeFileSync(
      input,
      writeNpz(
        { imgs: u8(new Uint8Array(H * W), [H, W]), boxes: f64(boxes.flat(), [3, 4]) },
        { compress: true },
      ),
    );
    const run = (...extra: string[]) => {
      const out = join(dir, `out${extra.join("")}`);
      const r = daft(["segment", input, "-o", out, "--models", boxModels, "--quiet", ...extra]);
      expect([r.code, r.stderr]).toEqual([0, ""]);
      return {
        segs: segsOf(join(out, "2DBox_MR_nested.npz")).data as Uint16Array,
        objects: readFileSync(join(out, "objects.csv"), "utf8").trim().split("\n").slice(1),
      };
    };
    const painted = (order: number[]) => {
      const expected = new Uint16Array(H * W);
      for (const i of order) {
        const [x0, y0, x1, y1] = boxes[i]!;
        for (let y = y0!; y <= y1!; y++) for (let x = x0!; x <= x1!; x++) expected[y * W + x] = i + 1;
      }
      return expected;
    };
    const inner = run();
    expect(inner.segs).toEqual(painted([1, 2, 0])); // bottom → top: 2, 3 (later, as before), 1 inside 3
    expect(run("--overlaps", "inner").segs).toEqual(inner.segs);
    const later = run("--overlaps", "later");
    expect(later.segs).toEqual(painted([0, 1, 2]));
    expect(later.segs.filter((v) => v === 1).length).toBe(0); // the core hidden under its ring's box
    // Mask confidence counts the visible part, so it follows the order. On top, the core keeps its own counts (the
    // oracle's logits are the distance to the box edge + 0.5: sure 9 × 9, doubtful the rings just inside and just
    // outside, 40 + 48); under box 3's sure pixels nothing of it is visible.
    const confidence = (rows: string[], label: number) => rows[label - 1]!.split(",")[4];
    expect(confidence(inner.objects, 1)).toBe((81 / (81 + 88)).toFixed(4));
    expect(confidence(later.objects, 1)).toBe("0.0000");
    const bad = daft(["segment", input, "-o", join(dir, "bad"), "--models", boxModels, "--overlaps", "top"]);
    expect([bad.code, bad.stderr.trim()]).toEqual([
      2,
      "daft segment: --overlaps must be one of inner, later",
    ]);
  });
});

describe("daft segment: object names (--names, a boxes file's names)", () => {
  it("names the labels in objects.csv and the Slicer segmentation; a wrong count fails that input in one line", () => {
    const dir = tempDir();
    const input = join(dir, "2DBox_MR_named.npz");
    writeFileSync(
      input,
      writeNpz(
        { imgs: u8(new Uint8Array(64 * 64), [64, 64]), boxes: f64([2, 2, 20, 20, 30, 30, 60, 60], [2, 4]) },
        { compress: true },
      ),
    );
    const out = join(dir, "out");
    const r = daft([
      "segment",
      input,
      "-o",
      out,
      "--models",
      boxModels,
      "--quiet",
      "--slicer-seg",
      "--names",
      "left lung, right lung",
    ]);
    expect([r.code, r.stderr]).toEqual([0, ""]);
    const objects = readFileSync(join(out, "objects.csv"), "utf8").trim().split("\n");
    expect(objects[0]).toBe("case,label,expert,voxels,mask_confidence,predicted_iou,name");
    expect(objects.slice(1).map((row) => row.split(",").at(-1))).toEqual(["left lung", "right lung"]);
    const header = readFileSync(join(out, "2DBox_MR_named.seg.nrrd")).toString("latin1").split("\n\n")[0]!;
    expect(header).toContain("Segment0_Name:=left lung\n");
    expect(header).toContain("Segment1_Name:=right lung\n");

    // The same names from a boxes file; one name too few fails the input (exit 1, no label map).
    const boxes = join(dir, "boxes.json");
    writeFileSync(
      boxes,
      JSON.stringify({
        boxes: [
          [2, 2, 20, 20],
          [30, 30, 60, 60],
        ],
        names: ["a", "b"],
      }),
    );
    const fromFile = daft([
      "segment",
      input,
      "-o",
      join(dir, "file"),
      "--models",
      boxModels,
      "--boxes",
      boxes,
    ]);
    expect(fromFile.code).toBe(0);
    expect(readFileSync(join(dir, "file", "objects.csv"), "utf8")).toMatch(/,a\n.*,b\n$/);
    const few = daft(["segment", input, "-o", join(dir, "few"), "--models", boxModels, "--names", "only"]);
    expect(few.code).toBe(1);
    expect(few.stderr.trim().split("\n")).toEqual([
      "2DBox_MR_named.npz: 1 object name(s) for 2 box(es): give one name per box, in box order",
    ]);
    expect(existsSync(join(dir, "few", "2DBox_MR_named.npz"))).toBe(false);
    const bad = daft(["segment", input, "-o", join(dir, "bad"), "--models", boxModels, "--names", "a,a"]);
    expect([bad.code, bad.stderr.trim()]).toEqual([
      1,
      '2DBox_MR_named.npz: boxes 1 and 2 are both named "a": each label needs its own name',
    ]);
    const quote = daft(["segment", input, "-o", join(dir, "q"), "--models", boxModels, "--names", 'a,"b"']);
    expect([quote.code, quote.stderr.trim()]).toEqual([
      2,
      'daft segment: --names: name 2 "\\"b\\"": a name is printable ASCII without \\ , or "',
    ]);
  });
});

describe("daft segment --overlays", () => {
  it("draws each mask outline in its label colour over the image", () => {
    const dir = tempDir();
    const input = join(dir, "2DBox_US_demo.npz");
    writeFileSync(
      input,
      writeNpz(
        { imgs: u8(new Uint8Array(256 * 256).fill(100), [256, 256]), boxes: f64([40, 50, 120, 140], [1, 4]) },
        { compress: true },
      ),
    );
    const r = daft([
      "segment",
      input,
      "-o",
      join(dir, "out"),
      "--models",
      boxModels,
      "--overlays",
      join(dir, "png"),
    ]);
    expect(r.code).toBe(0);
    const png = decodePng(readFileSync(join(dir, "png", "2DBox_US_demo.png")));
    expect([png.width, png.height, png.channels]).toEqual([256, 256, 3]);
    const at = (x: number, y: number) =>
      Array.from(png.data.subarray((y * 256 + x) * 3, (y * 256 + x) * 3 + 3));
    expect(at(80, 50)).toEqual(labelColour(1)); // top edge of the mask
    expect(at(10, 10)).toEqual([0, 0, 0]); // constant image → black, untouched
  });
});

describe("daft segment (3D propagation)", () => {
  it("segments an ellipsoid through the slices from the middle, encoding each slice once", () => {
    const dir = tempDir();
    const [D, H, W] = [15, 256, 256];
    const img = new Uint8Array(D * H * W);
    const inside = (z: number, y: number, x: number) =>
      ((z - 7) / 6) ** 2 + ((y - 120) / 40) ** 2 + ((x - 130) / 50) ** 2 <= 1;
    for (let z = 0; z < D; z++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) if (inside(z, y, x)) img[(z * H + y) * W + x] = 200;
    // Two boxes: the first covers z 2..12 around the middle cross-section only; the second a thin slab, drawn last.
    const boxes = [
      [80, 80, 2, 180, 160, 12],
      [60, 60, 6, 200, 200, 7],
    ];
    const input = join(dir, "3DBox_MR_demo.npz");
    writeFileSync(
      input,
      writeNpz(
        { imgs: u8(img, [D, H, W]), boxes: f64(boxes.flat(), [2, 6]), spacing: f64([3, 0.8, 0.8], [3]) },
        { compress: true },
      ),
    );
    const out = join(dir, "out");
    const r = daft(["segment", input, "-o", out, "--models", intensityModels]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const segs = segsOf(join(out, "3DBox_MR_demo.npz")).data as Uint16Array;
    let wrong = 0;
    for (let z = 0; z < D; z++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const e = inside(z, y, x) ? (z >= 6 && z <= 7 ? 2 : z >= 2 && z <= 12 ? 1 : 0) : 0;
          if (segs[(z * H + y) * W + x] !== e) wrong++;
        }
    expect(wrong).toBe(0);
    const row = readFileSync(join(out, "timings.csv"), "utf8").trim().split("\n")[1]!.split(",");
    expect(row.slice(0, 8)).toEqual(["3DBox_MR_demo.npz", "MR", "general", "filename", "", "2", "11", "11"]);
    // The reference behaviour (no shared embeddings) re-encodes each box's slices: 11 + 2.
    const base = daft([
      "segment",
      input,
      "-o",
      join(dir, "base"),
      "--models",
      intensityModels,
      "--no-embedding-cache",
    ]);
    expect(base.code).toBe(0);
    expect(
      readFileSync(join(dir, "base", "timings.csv"), "utf8")
        .split("\n")[1]!
        .split(",")[7],
    ).toBe("13");
    expect(Buffer.from(readFileSync(join(dir, "base", "3DBox_MR_demo.npz"))).length).toBeGreaterThan(0);
    expect(segsOf(join(dir, "base", "3DBox_MR_demo.npz")).data).toEqual(segs);
    // Test-time mirroring: the intensity oracle is mirror-symmetric, so all four passes agree.
    const withMirror = (mode: string) =>
      daft([
        "segment",
        input,
        "-o",
        join(dir, `mirror-${mode}`),
        "--models",
        intensityModels,
        "--mirror",
        mode,
      ]);
    expect(withMirror("xy").code).toBe(0);
    expect(segsOf(join(dir, "mirror-xy", "3DBox_MR_demo.npz")).data).toEqual(segs);
    const bad = withMirror("z");
    expect([bad.code, bad.stderr.trim()]).toEqual([2, "daft segment: --mirror must be one of off, x, xy"]);
  });
});

describe("daft segment: models side by side (--threads)", () => {
  it("runs the mirrored passes of a long case on a worker thread too, and writes the same label map", () => {
    const dir = tempDir();
    const [D, H, W] = [200, 256, 256];
    const img = new Uint8Array(D * H * W);
    for (let z = 0; z < D; z++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++)
          if ((y - 128) ** 2 + (x - 100 - z / 4) ** 2 < 900) img[(z * H + y) * W + x] = 200;
    const input = join(dir, "3DBox_MR_long.npz");
    writeFileSync(
      input,
      writeNpz(
        {
          imgs: u8(img, [D, H, W]),
          boxes: f64([60, 90, 0, 200, 170, D - 1], [1, 6]),
          spacing: f64([1, 1, 1], [3]),
        },
        { compress: true },
      ),
    );
    const run = (threads: string) =>
      daft([
        "segment",
        input,
        "-o",
        join(dir, `threads-${threads}`),
        "--models",
        intensityModels,
        "--mirror",
        "xy",
        "--threads",
        threads,
        "--explain",
      ]);
    const one = run("1");
    const two = run("2");
    expect([one.code, two.code, one.stderr, two.stderr]).toEqual([0, 0, "", ""]);
    expect(one.stdout).toContain('expert "general": model runs on the main thread\n');
    // 200 slices × 4 passes: far more than the 16 runs before a worker may start, and long enough for it to.
    expect(two.stdout).toContain('expert "general": model runs on the main thread and 1 worker thread\n');
    const segs = segsOf(join(dir, "threads-2", "3DBox_MR_long.npz")).data as Uint16Array;
    const segsOne = segsOf(join(dir, "threads-1", "3DBox_MR_long.npz")).data as Uint16Array;
    // Compared as bytes: toEqual on 7.9 M elements takes most of a minute.
    expect(
      Buffer.from(segs.buffer, segs.byteOffset, segs.byteLength).equals(
        Buffer.from(segsOne.buffer, segsOne.byteOffset, segsOne.byteLength),
      ),
    ).toBe(true);
    expect(segs.reduce((n, v) => n + v, 0)).toBeGreaterThan(D * 2000);
  });
});

describe("daft segment --baseline box", () => {
  it("paints each 3D box over all its slices (inclusive), later boxes on top", () => {
    const dir = tempDir();
    const input = join(dir, "3DBox_CT_box.npz");
    const [D, H, W] = [6, 20, 30];
    writeFileSync(
      input,
      writeNpz(
        {
          imgs: u8(new Uint8Array(D * H * W), [D, H, W]),
          boxes: f64([2, 3, 1, 10, 12, 4, 5, 5, 2, 6, 6, 2], [2, 6]),
          spacing: f64([1, 1, 1], [3]),
        },
        { compress: true },
      ),
    );
    const r = daft(["segment", input, "-o", join(dir, "out"), "--models", boxModels, "--baseline", "box"]);
    expect(r.code).toBe(0);
    const segs = segsOf(join(dir, "out", "3DBox_CT_box.npz")).data as Uint16Array;
    const at = (z: number, y: number, x: number) => segs[(z * H + y) * W + x];
    expect([at(0, 5, 5), at(1, 3, 2), at(4, 12, 10), at(5, 12, 10), at(2, 5, 5), at(2, 6, 7)]).toEqual([
      0, 1, 1, 0, 2, 1,
    ]);
  });
});

describe("daft segment: bad input gives one line naming the file, a non-zero exit and no output", () => {
  const good = () =>
    writeNpz(
      { imgs: u8(new Uint8Array(64 * 64), [64, 64]), boxes: f64([1, 1, 10, 10], [1, 4]) },
      { compress: false },
    );
  const cases: [string, () => Uint8Array, RegExp][] = [
    ["truncated.npz", () => good().subarray(0, 200), /truncated\.npz: .+/],
    [
      "garbage.npz",
      () => new TextEncoder().encode("this is not a zip file at all"),
      /garbage\.npz: .*not a valid \.npz/,
    ],
    [
      "nokeys.npz",
      () => writeNpz({ pixels: u8(new Uint8Array(4), [2, 2]) }, { compress: true }),
      /nokeys\.npz: .*imgs/,
    ],
    [
      "nan.npz",
      () =>
        writeNpz(
          {
            imgs: { data: new Float32Array(16).fill(NaN), shape: [4, 4], dtype: "float32" },
            boxes: f64([0, 0, 2, 2], [1, 4]),
          },
          { compress: true },
        ),
      /nan\.npz: .*NaN/,
    ],
    [
      "outside.npz",
      () =>
        writeNpz(
          { imgs: u8(new Uint8Array(64 * 64), [64, 64]), boxes: f64([1, 1, 100, 10], [1, 4]) },
          { compress: true },
        ),
      /outside\.npz: .*box 0.*outside/,
    ],
    [
      "inverted.npz",
      () =>
        writeNpz(
          { imgs: u8(new Uint8Array(64 * 64), [64, 64]), boxes: f64([20, 1, 10, 10], [1, 4]) },
          { compress: true },
        ),
      /inverted\.npz: .*box 0.*inverted/,
    ],
    [
      "noboxes.npz",
      () =>
        writeNpz({ imgs: u8(new Uint8Array(64 * 64), [64, 64]), boxes: f64([], [0, 4]) }, { compress: true }),
      /noboxes\.npz: .*no boxes/,
    ],
    [
      "nospacing.npz",
      () =>
        writeNpz(
          { imgs: u8(new Uint8Array(4 * 64 * 64), [4, 64, 64]), boxes: f64([1, 1, 0, 10, 10, 3], [1, 6]) },
          { compress: true },
        ),
      /nospacing\.npz: .*spacing/,
    ],
  ];
  for (const [name, make, message] of cases) {
    it(name, () => {
      const dir = tempDir();
      writeFileSync(join(dir, name), make());
      const out = join(dir, "out");
      const r = daft(["segment", join(dir, name), "-o", out, "--models", boxModels]);
      expect(r.code).not.toBe(0);
      const lines = r.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(existsSync(join(out, name))).toBe(false);
      expect(readdirSync(out).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    });
  }

  it("a folder with one bad case: the good ones are written, the bad one reported, exit 1", () => {
    const dir = tempDir();
    const cases = join(dir, "cases");
    const out = join(dir, "out");
    mkdirSync(cases);
    writeFileSync(join(cases, "a.npz"), good());
    writeFileSync(join(cases, "b.npz"), good().subarray(0, 100));
    writeFileSync(join(cases, "c.npz"), good());
    const r = daft(["segment", cases, "-o", out, "--models", boxModels, "--quiet"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/b\.npz: /);
    expect(r.stderr).toMatch(/1 of 3 cases failed/);
    expect(readdirSync(out).sort()).toEqual(["a.npz", "c.npz", "objects.csv", "timings.csv"]);
  });

  it("hundreds of boxes are fine", () => {
    const dir = tempDir();
    const boxes: number[] = [];
    for (let i = 0; i < 300; i++) boxes.push(i % 200, (i * 3) % 200, (i % 200) + 30, ((i * 3) % 200) + 30);
    writeFileSync(
      join(dir, "many.npz"),
      writeNpz(
        { imgs: u8(new Uint8Array(256 * 256 * 3), [256, 256, 3]), boxes: f64(boxes, [300, 4]) },
        { compress: true },
      ),
    );
    const r = daft(["segment", join(dir, "many.npz"), "-o", join(dir, "out"), "--models", boxModels]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(Math.max(...(segsOf(join(dir, "out", "many.npz")).data as Uint16Array))).toBe(300);
  });

  it("a missing or corrupt models folder is a clear error", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "a.npz"), good());
    const r = daft(["segment", join(dir, "a.npz"), "-o", join(dir, "out"), "--models", join(dir, "nothing")]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/nothing\/manifest\.json: no manifest\.json here/);
  });
});

describe("daft segment --continue", () => {
  const caseWithBox = (x0: number) =>
    writeNpz(
      { imgs: u8(new Uint8Array(64 * 64), [64, 64]), boxes: f64([x0, 1, x0 + 9, 10], [1, 4]) },
      { compress: false },
    );

  it("resumes a stopped run: finished cases are left alone, the missing and the outdated ones are segmented", () => {
    const dir = tempDir();
    const cases = join(dir, "cases");
    const out = join(dir, "out");
    const overlays = join(dir, "overlays");
    mkdirSync(cases);
    for (const [i, name] of ["a.npz", "b.npz", "c.npz", "d.npz"].entries())
      writeFileSync(join(cases, name), caseWithBox(i + 1));
    const first = daft([
      "segment",
      cases,
      "-o",
      out,
      "--overlays",
      overlays,
      "--models",
      boxModels,
      "--quiet",
    ]);
    expect(first.stderr).toBe("");
    const timings = readFileSync(join(out, "timings.csv"), "utf8").trim().split("\n");
    expect(timings.map((row) => row.split(",")[0])).toEqual(["case", "a.npz", "b.npz", "c.npz", "d.npz"]);

    // The run "stopped" before c's label map and d's overlay; b's input changed after it was segmented.
    rmSync(join(out, "c.npz"));
    rmSync(join(overlays, "d.png"));
    writeFileSync(join(out, "a.npz"), "a's label map, left alone by --continue");
    writeFileSync(join(cases, "b.npz"), caseWithBox(30));
    const earlier = new Date(Date.now() - 60_000);
    utimesSync(join(out, "b.npz"), earlier, earlier);

    const resume = () =>
      daft(["segment", cases, "-o", out, "--overlays", overlays, "--models", boxModels, "--continue"]);
    const r = resume();
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/--continue: 1 of 4 input\(s\) already segmented in .*out, 3 to go\n/);
    expect(readFileSync(join(out, "a.npz"), "utf8")).toBe("a's label map, left alone by --continue");
    // b and c as a fresh run segments them (b from its new box)
    const fresh = join(dir, "fresh");
    daft([
      "segment",
      join(cases, "b.npz"),
      join(cases, "c.npz"),
      "-o",
      fresh,
      "--models",
      boxModels,
      "--quiet",
    ]);
    for (const name of ["b.npz", "c.npz"])
      expect(segsOf(join(out, name)).data).toEqual(segsOf(join(fresh, name)).data);
    expect(segsOf(join(out, "b.npz")).data).not.toEqual(segsOf(join(out, "d.npz")).data);
    expect(existsSync(join(overlays, "d.png"))).toBe(true);
    const resumed = readFileSync(join(out, "timings.csv"), "utf8").trim().split("\n");
    expect(resumed.map((row) => row.split(",")[0])).toEqual(["case", "a.npz", "b.npz", "c.npz", "d.npz"]);
    expect(resumed[1]).toBe(timings[1]); // a's row kept from the first run
    const objects = readFileSync(join(out, "objects.csv"), "utf8").trim().split("\n");
    expect(objects.map((row) => row.split(",").slice(0, 2).join(","))).toEqual([
      "case,label",
      "a.npz,1",
      "b.npz,1",
      "c.npz,1",
      "d.npz,1",
    ]);

    const again = resume();
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/4 of 4 input\(s\) already segmented in .*, 0 to go\n/);
    expect(readFileSync(join(out, "timings.csv"), "utf8").trim().split("\n")).toEqual(resumed);
  });
});

describe("daft segment: the optimized-model cache", () => {
  it("the first process writes the optimized graphs, the next loads them; the label maps are the same", () => {
    const dir = tempDir();
    const input = join(dir, "a.npz");
    writeFileSync(
      input,
      writeNpz(
        { imgs: u8(new Uint8Array(64 * 64).fill(9), [64, 64]), boxes: f64([3, 4, 40, 50], [1, 4]) },
        { compress: false },
      ),
    );
    const cache = join(dir, "cache");
    const runWith = (cacheDir: string, out: string, sessions: string) => {
      const r = daft(["segment", input, "-o", join(dir, out), "--models", boxModels, "--explain"], {
        env: { DAFT_CACHE_DIR: cacheDir },
      });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`  expert "general": ${sessions}\n`);
      return readFileSync(join(dir, out, "a.npz"));
    };
    const optimizedNow =
      "graphs optimized now (kept in the optimized-model cache unless it is off or unwritable)";
    const first = runWith(cache, "first", optimizedNow);
    const entries = readdirSync(join(cache, "ort")).sort();
    expect(entries.filter((f) => f.endsWith(".onnx"))).toHaveLength(2); // encoder and decoder
    expect(entries.filter((f) => f.endsWith(".sha256"))).toHaveLength(2);
    expect(runWith(cache, "second", "both sessions from the optimized-model cache").equals(first)).toBe(true);
    expect(readdirSync(join(cache, "ort")).sort()).toEqual(entries);
    expect(runWith("off", "off", optimizedNow).equals(first)).toBe(true);

    // Its bound comes from DAFT_CACHE_MAX_MB; a value that is not one stops the command before it writes anything.
    const bad = daft(["segment", input, "-o", join(dir, "bad"), "--models", boxModels], {
      env: { DAFT_CACHE_DIR: cache, DAFT_CACHE_MAX_MB: "1 GB" },
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('DAFT_CACHE_MAX_MB must be a number of megabytes ≥ 0, not "1 GB"\n');
    expect(existsSync(join(dir, "bad"))).toBe(false);
  });
});
