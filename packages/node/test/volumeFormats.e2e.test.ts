/**
 * End to end: the real `daft segment` process on the volume formats of 3D Slicer and ITK (NRRD, MetaImage .mha), each file written
 * independently of our code — by hand in Python from the format's specification, as Slicer and ITK lay it out — and
 * the same image written as NIfTI by nibabel. The oracle expert that segments the bright voxels inside the box must
 * give the same label map whichever format carries the image, and the label map must carry the input's grid and
 * placement. Needs /usr/bin/python3 with nibabel and numpy (Debian packages); skipped otherwise.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { daft, runPython, tempDir, withoutRunTables, writeBoxAndBrightModels } from "./helpers.js";

const PYTHON = "/usr/bin/python3";
const hasTools = spawnSync(PYTHON, ["-c", "import nibabel, numpy"], { stdio: "ignore" }).status === 0;
/** teem's `unu` (Debian teem-apps): the NRRD library 3D Slicer's and ITK's NRRD readers are built from. */
const TEEM_UNU = "teem-unu";
const hasTeem = spawnSync(TEEM_UNU, ["minmax"], { stdio: "ignore" }).error === undefined;

/** Writes the inputs into argv[1]; prints the boxes and world corners the tests use. */
const MAKE_INPUTS = String.raw`
import gzip, json, sys, zlib
from pathlib import Path
import numpy as np, nibabel as nib

out = Path(sys.argv[1])
from synthetic_inputs import N, ct_volume


t = np.deg2rad(25)
ras = np.eye(4)
ras[:3, :3] = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]]) @ np.diag([-0.7, 0.8, 3.0])
ras[:3, 3] = [90.0, -60.0, 12.0]
volume = ct_volume(4)
nib.save(nib.Nifti1Image(volume, ras), out / "ct.nii.gz")
lps = np.diag([-1.0, -1.0, 1.0, 1.0]) @ ras

def vector(v):
    return "(" + ",".join(repr(float(x)) for x in v) + ")"

def nrrd(path, lines, data, gz):
    header = "NRRD0004\n# Complete NRRD file format specification at:\n# http://teem.sourceforge.net/nrrd/format.html\n"
    header += "\n".join(lines) + "\n\n"
    payload = gzip.compress(data) if gz else data
    path.write_bytes(header.encode("ascii") + payload)

# 3D Slicer's layout: LPS, x fastest (Fortran order of the (x, y, z) array), little endian, gzip.
nrrd(out / "ct.nrrd", [
    "type: short", "dimension: 3", "space: left-posterior-superior", "sizes: 256 256 4",
    "space directions: " + " ".join(vector(lps[:3, c]) for c in range(3)),
    "kinds: domain domain domain", "endian: little", "encoding: gzip",
    "space origin: " + vector(lps[:3, 3])], volume.astype("<i2").tobytes(order="F"), True)

# The same volume big endian, raw, in RAS (teem's other space name).
nrrd(out / "ct_ras_big.nrrd", [
    "type: int16", "dimension: 3", "space: RAS", "sizes: 256 256 4",
    "space directions: " + " ".join(vector(ras[:3, c]) for c in range(3)),
    "endian: big", "encoding: raw", "space origin: " + vector(ras[:3, 3])],
    volume.astype(">i2").tobytes(order="F"), False)

# A 2D RGB picture as Slicer saves a colour image: a 'none' component axis first.
rgb = np.zeros((3, N, N), np.uint8)  # (component, x, y)
rgb[0] = np.arange(N)[:, None]
rgb[1, 100:151, 80:131] = 255
nrrd(out / "photo.nrrd", [
    "type: unsigned char", "dimension: 3", "space: left-posterior-superior", "sizes: 3 256 256",
    "space directions: none (0.2,0,0) (0,0.2,0)", "kinds: RGB-color domain domain", "encoding: gzip",
    "space origin: (0,0,0)"], rgb.tobytes(order="F"), True)

# ITK's .mha: LPS, TransformMatrix rows = unit direction of each axis, ElementSpacing = their lengths, zlib data.
spacing = np.linalg.norm(lps[:3, :3], axis=0)
units = lps[:3, :3] / spacing
def mha(path, msb, compressed):
    data = volume.astype(">i2" if msb else "<i2").tobytes(order="F")
    payload = zlib.compress(data) if compressed else data
    lines = ["ObjectType = Image", "NDims = 3", "BinaryData = True",
             "BinaryDataByteOrderMSB = " + ("True" if msb else "False"),
             "CompressedData = " + ("True" if compressed else "False")]
    if compressed:
        lines.append("CompressedDataSize = %d" % len(payload))
    lines += ["TransformMatrix = " + " ".join(repr(float(units[r, c])) for c in range(3) for r in range(3)),
              "Offset = " + " ".join(repr(float(v)) for v in lps[:3, 3]), "CenterOfRotation = 0 0 0",
              "AnatomicalOrientation = RAI", "ElementSpacing = " + " ".join(repr(float(v)) for v in spacing),
              "DimSize = 256 256 4", "ElementType = MET_SHORT", "ElementDataFile = LOCAL"]
    path.write_bytes(("\n".join(lines) + "\n").encode("ascii") + payload)
mha(out / "ct.mha", False, True)
mha(out / "ct_msb.mha", True, False)

# The reference segmentation of the 200 HU object, as nnU-Net's labelsTr would hold it; and one placed 2 mm off.
(out / "gt").mkdir()
nib.save(nib.Nifti1Image((volume == 200).astype(np.uint8), ras), out / "gt" / "ct.nii.gz")
(out / "moved").mkdir()
moved = ras.copy()
moved[2, 3] += 2.0
nib.save(nib.Nifti1Image((volume == 200).astype(np.uint8), moved), out / "moved" / "ct.nii.gz")

box = [90, 70, 0, 170, 140, 3]
corner = lambda a, p: (a @ np.array([*p, 1.0]))[:3].tolist()
print(json.dumps({"box": box, "world_lps": corner(lps, box[:3]) + corner(lps, box[3:]),
                  "lps": lps.tolist()}))
`;

/** What a label map holds: NIfTI through nibabel, NRRD through a reader written from the specification. */
const INSPECT = String.raw`
import gzip, json, re, sys, zlib
import numpy as np, nibabel as nib

path = sys.argv[1]
if path.endswith(".nrrd"):
    raw = open(path, "rb").read()
    end = raw.index(b"\n\n")
    lines = [l for l in raw[:end].decode().split("\n")[1:] if l and not l.startswith("#")]
    fields = dict(l.split(": ", 1) for l in lines if ":=" not in l)
    sizes = [int(s) for s in fields["sizes"].split()]
    payload = raw[end + 2:]
    if fields["encoding"] == "gzip":
        payload = gzip.decompress(payload)
    dtype = {"uint16": "<u2", "uint8": "u1"}[fields["type"]]
    data = np.frombuffer(payload, dtype).reshape(sizes, order="F")
    directions = [[float(x) for x in v.split(",")] for v in re.findall(r"\(([^)]*)\)", fields["space directions"])]
    origin = [float(x) for x in re.findall(r"\(([^)]*)\)", fields["space origin"])[0].split(",")]
    geometry = {"space": fields["space"], "directions": directions, "origin": origin, "encoding": fields["encoding"]}
elif path.endswith(".mha"):
    raw = open(path, "rb").read()
    end = raw.index(b"ElementDataFile = LOCAL\n") + len(b"ElementDataFile = LOCAL\n")
    fields = dict(l.split(" = ", 1) for l in raw[:end].decode().strip().split("\n"))
    sizes = [int(s) for s in fields["DimSize"].split()]
    payload = zlib.decompress(raw[end:]) if fields["CompressedData"] == "True" else raw[end:]
    dtype = {"MET_USHORT": "<u2", "MET_UCHAR": "u1"}[fields["ElementType"]]
    data = np.frombuffer(payload, dtype).reshape(sizes, order="F")
    geometry = {"fields": fields}
else:
    img = nib.load(path)
    data = np.asarray(img.dataobj)
    geometry = {"affine": img.affine.tolist()}
from synthetic_inputs import label_summary
labels = label_summary(data)
print(json.dumps({"shape": list(data.shape), "dtype": str(data.dtype), "labels": labels, "geometry": geometry,
                  "sha": __import__("hashlib").sha1(np.ascontiguousarray(data.astype(np.uint16)).tobytes()).hexdigest()}))
`;

interface Inspected {
  shape: number[];
  dtype: string;
  labels: Record<string, { count: number; min: number[]; max: number[] }>;
  geometry: {
    space?: string;
    directions?: number[][];
    origin?: number[];
    encoding?: string;
    fields?: Record<string, string>;
    affine?: number[][];
  };
  sha: string;
}

const python = runPython;
const inspect = (path: string): Inspected => JSON.parse(python(INSPECT, [path]));

let dir: string;
let info: { box: number[]; world_lps: number[]; lps: number[][] };
let boxModels: string;
let brightModels: string;

/** The 200 HU object inside the box, under the default abdomen window. */
const OBJECT = { count: 51 * 51 * 2, min: [100, 80, 1], max: [150, 130, 2] };

describe.skipIf(!hasTools)("daft segment on NRRD and MetaImage", () => {
  beforeAll(async () => {
    dir = tempDir("daft-volume-formats-");
    info = JSON.parse(python(MAKE_INPUTS, [dir]));
    ({ boxModels, brightModels } = await writeBoxAndBrightModels(dir));
  });
  const input = (name: string) => join(dir, name);
  const run = (args: string[], models = brightModels) => daft(["segment", ...args, "--models", models]);

  it("NRRD in, NRRD out: the same labels as the NIfTI of the same volume, the input's space, directions and origin", () => {
    const out = join(dir, "out-same");
    const box = info.box.join(",");
    const r = run([
      input("ct.nii.gz"),
      input("ct.nrrd"),
      input("ct_ras_big.nrrd"),
      input("ct.mha"),
      input("ct_msb.mha"),
      "-o",
      out,
      "--box",
      box,
      "--explain",
      "--quiet",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /NRRD 256×256×4 int16, gzip encoding, .*space left-posterior-superior; intensities: CT window abdomen 400\/40 \(Hounsfield-like values/,
    );
    const nifti = inspect(join(out, "ct.nii.gz"));
    const nrrd = inspect(join(out, "ct.nrrd"));
    const big = inspect(join(out, "ct_ras_big.nrrd"));
    expect(nifti.labels).toEqual({ "1": OBJECT });
    for (const result of [nrrd, big]) {
      expect(result.dtype).toBe("uint16");
      expect(result.shape).toEqual([256, 256, 4]);
      expect(result.sha).toBe(nifti.sha);
    }
    expect(nrrd.geometry.space).toBe("left-posterior-superior");
    expect(nrrd.geometry.encoding).toBe("gzip");
    nrrd.geometry.directions!.forEach((d, c) =>
      d.forEach((v, row) => expect(v).toBeCloseTo(info.lps[row]![c]!, 9)),
    );
    nrrd.geometry.origin!.forEach((v, row) => expect(v).toBeCloseTo(info.lps[row]![3]!, 9));
    expect(big.geometry.space).toBe("right-anterior-superior");
    expect(big.geometry.encoding).toBe("raw");
    expect(r.stdout).toMatch(
      /MetaImage 256×256×4 MET_SHORT, compressed, .*orientation RAI; intensities: CT window/,
    );
    for (const [file, compressed] of [
      ["ct.mha", "True"],
      ["ct_msb.mha", "False"],
    ] as const) {
      const mha = inspect(join(out, file));
      expect(mha.sha).toBe(nifti.sha);
      expect(mha.dtype).toBe("uint16");
      const source = readFileSync(input(file), "latin1");
      const fields = mha.geometry.fields!;
      for (const key of ["TransformMatrix", "Offset", "ElementSpacing", "DimSize", "AnatomicalOrientation"]) {
        const numbers = (text: string) => text.split(" ").map(Number);
        const expected = new RegExp(`${key} = (.*)\n`).exec(source)![1]!;
        if (key === "AnatomicalOrientation") expect(fields[key]).toBe(expected);
        else numbers(fields[key]!).forEach((v, i) => expect(v).toBeCloseTo(numbers(expected)[i]!, 9));
      }
      expect(fields["CompressedData"]).toBe(compressed);
      expect(fields["ElementType"]).toBe("MET_USHORT");
    }
  });

  it("--world boxes in LPS millimetres land on the same voxels in NRRD and MetaImage", () => {
    const out = join(dir, "out-world");
    const world = info.world_lps.join(",");
    const r = run(
      [
        input("ct.nrrd"),
        input("ct.mha"),
        "-o",
        out,
        "--world",
        "--box",
        world,
        "--baseline",
        "box",
        "--quiet",
      ],
      boxModels,
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const b = info.box;
    const count = (b[3]! - b[0]! + 1) * (b[4]! - b[1]! + 1) * (b[5]! - b[2]! + 1);
    for (const file of ["ct.nrrd", "ct.mha"]) {
      expect(inspect(join(out, file)).labels).toEqual({
        "1": { count, min: b.slice(0, 3), max: b.slice(3) },
      });
    }
  });

  it("daft eval scores the NRRD and MetaImage label maps against a NIfTI reference (nnU-Net names pair up)", () => {
    const out = join(dir, "out-eval");
    const segmented = run([
      input("ct.nrrd"),
      input("ct.mha"),
      "-o",
      out,
      "--box",
      info.box.join(","),
      "--quiet",
    ]);
    expect(segmented.code).toBe(0);
    for (const [file, predName] of [
      ["ct.nrrd", "ct.nrrd"],
      ["ct.mha", "ct_0000.mha"],
    ] as const) {
      const pred = tempDir();
      writeFileSync(join(pred, predName), readFileSync(join(out, file)));
      const r = daft(["eval", "--pred", pred, "--gt", input("gt"), "-o", join(pred, "report"), "--quiet"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const report = JSON.parse(readFileSync(join(pred, "report", "summary.json"), "utf8"));
      expect(report.cases).toHaveLength(1);
      expect(report.cases[0]).toMatchObject({ case: "ct.nii.gz", dsc: 1, nsd: 1, predictionMissing: false });
    }
    const r = daft(["eval", "--pred", input("moved"), "--gt", input("gt"), "-o", join(dir, "moved-report")]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(
      new RegExp(
        `^${join(dir, "moved", "ct.nii.gz")}: placed 2 mm away from the ground truth .*ct\\.nii\\.gz`,
      ),
    );
  });

  it.skipIf(!hasTeem)(
    "--slicer-seg: a .seg.nrrd teem reads, with the NIfTI's labels in LPS and a named, bounded segment per box",
    () => {
      const box = info.box.join(",");
      const air = "0,0,0,10,10,0"; // no bright voxel: an empty segment
      for (const [file, out] of [
        ["ct.nii.gz", "out-slicer-nifti"],
        ["ct.nrrd", "out-slicer-nrrd"],
      ] as const) {
        const outDir = join(dir, out);
        const r = run([input(file), "-o", outDir, "--box", box, "--box", air, "--slicer-seg", "--quiet"]);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        const segPath = join(outDir, "ct.seg.nrrd");
        const labelMap = inspect(join(outDir, file));
        const seg = inspect(segPath);
        expect(seg.dtype).toBe("uint8");
        expect(seg.shape).toEqual([256, 256, 4]);
        expect(seg.sha).toBe(labelMap.sha);
        expect(seg.labels).toEqual({ "1": OBJECT });
        // NIfTI's RAS affine and the NRRD's LPS frame give the same LPS placement.
        expect(seg.geometry.space).toBe("left-posterior-superior");
        // (to 1e-6 mm: the NIfTI header holds its sform in float32)
        seg.geometry.directions!.forEach((d, c) =>
          d.forEach((v, row) => expect(v).toBeCloseTo(info.lps[row]![c]!, 6)),
        );
        seg.geometry.origin!.forEach((v, row) => expect(v).toBeCloseTo(info.lps[row]![3]!, 6));
        // teem parses the header, its key/value pairs and the gzip data.
        const head = spawnSync(TEEM_UNU, ["head", segPath], { encoding: "utf8" });
        expect(head.status).toBe(0);
        const pairs = new Map(
          head.stdout
            .split("\n")
            .filter((line) => line.includes(":="))
            .map((line) => line.split(":=") as [string, string]),
        );
        expect(pairs.get("Segment0_Name")).toBe("box 1");
        expect(pairs.get("Segment0_LabelValue")).toBe("1");
        expect(pairs.get("Segment0_Extent")).toBe([100, 150, 80, 130, 1, 2].join(" "));
        expect(pairs.get("Segment1_Name")).toBe("box 2");
        expect(pairs.get("Segment1_Extent")).toBe("0 -1 0 -1 0 -1");
        expect(pairs.get("Segmentation_MasterRepresentation")).toBe("Binary labelmap");
        const minmax = spawnSync(TEEM_UNU, ["minmax", segPath], { encoding: "utf8" });
        expect(minmax.stdout).toMatch(/min: 0\s+max: 1/);
        // daft eval reads it back as a label map and pairs ct.seg.nrrd with the reference ct.nii.gz.
        const pred = tempDir();
        writeFileSync(join(pred, "ct.seg.nrrd"), readFileSync(segPath));
        const scored = daft([
          "eval",
          "--pred",
          pred,
          "--gt",
          input("gt"),
          "-o",
          join(pred, "report"),
          "--quiet",
        ]);
        expect(scored.stderr).toBe("");
        const report = JSON.parse(readFileSync(join(pred, "report", "summary.json"), "utf8"));
        expect(report.cases).toEqual([expect.objectContaining({ case: "ct.nii.gz", dsc: 1, nsd: 1 })]);
      }
    },
  );

  it("--boxes-from: boxes from a reference label map (file or folder, paired by name), refused off the input's grid", () => {
    // The box baseline paints each label's bounding box: the reference's cuboid object exactly.
    const out = join(dir, "out-boxes-from");
    const fromFile = run(
      [input("ct.nrrd"), "-o", out, "--boxes-from", input("gt/ct.nii.gz"), "--baseline", "box", "--quiet"],
      boxModels,
    );
    expect(fromFile.stderr).toBe("");
    expect(fromFile.code).toBe(0);
    expect(inspect(join(out, "ct.nrrd")).labels).toEqual({ "1": OBJECT });
    // A folder of references pairs ct.nii.gz with gt/ct.nii.gz; the engine's masks then score DSC 1 against it.
    const pred = join(dir, "out-boxes-from-folder");
    const fromFolder = run([input("ct.nii.gz"), "-o", pred, "--boxes-from", input("gt"), "--quiet"]);
    expect(fromFolder.stderr).toBe("");
    const scored = daft(["eval", "--pred", pred, "--gt", input("gt"), "-o", join(pred, "report"), "--quiet"]);
    expect(scored.code).toBe(0);
    const report = JSON.parse(readFileSync(join(pred, "report", "summary.json"), "utf8"));
    expect(report.cases).toEqual([expect.objectContaining({ case: "ct.nii.gz", dsc: 1 })]);
    // The same labels placed 2 mm away: one line, exit 1, nothing written.
    const moved = join(dir, "out-boxes-from-moved");
    const off = run([input("ct.nii.gz"), "-o", moved, "--boxes-from", input("moved/ct.nii.gz"), "--quiet"]);
    expect(off.code).toBe(1);
    expect(off.stderr.trim()).toBe(
      `${input("moved/ct.nii.gz")}: placed 2 mm away from the input ${input("ct.nii.gz")} on the same voxel grid ` +
        "(a different affine); resample it onto the input's grid first",
    );
    expect(readdirSync(moved).sort()).toEqual(["objects.csv", "timings.csv"]);
    const both = run([input("ct.nii.gz"), "-o", moved, "--boxes-from", input("gt"), "--box", "1,1,0,2,2,1"]);
    expect(both.code).toBe(2);
    expect(both.stderr.trim()).toBe("daft segment: give boxes with one of --box, --boxes and --boxes-from");
  });

  it("--boxes-from a Slicer segmentation carries its segment names; --names still overrides them", () => {
    // A named segmentation (as Slicer saves one after a review), then boxes from it on the same image.
    const named = join(dir, "out-named");
    const first = run(
      [input("ct.nii.gz"), "-o", named, "--box", info.box.join(","), "--names", "lesion", "--slicer-seg"],
      boxModels,
    );
    expect([first.code, first.stderr]).toEqual([0, ""]);
    const names = (out: string) =>
      readFileSync(join(out, "objects.csv"), "utf8")
        .trim()
        .split("\n")
        .slice(1)
        .map((row) => row.split(",").at(-1));
    const again = join(dir, "out-named-again");
    const fromSeg = run(
      [
        input("ct.nii.gz"),
        "-o",
        again,
        "--boxes-from",
        join(named, "ct.seg.nrrd"),
        "--slicer-seg",
        "--quiet",
      ],
      boxModels,
    );
    expect([fromSeg.code, fromSeg.stderr]).toEqual([0, ""]);
    expect(names(again)).toEqual(["lesion"]);
    expect(readFileSync(join(again, "ct.seg.nrrd")).toString("latin1")).toContain("Segment0_Name:=lesion\n");
    const renamed = join(dir, "out-renamed");
    const override = run(
      [input("ct.nii.gz"), "-o", renamed, "--boxes-from", join(named, "ct.seg.nrrd"), "--names", "tumour"],
      boxModels,
    );
    expect(override.code).toBe(0);
    expect(names(renamed)).toEqual(["tumour"]);
  });

  it("a 2D RGB NRRD (Slicer's colour image) is a 2D case with a 2D label map", () => {
    const out = join(dir, "out-rgb");
    const r = run(
      [input("photo.nrrd"), "-o", out, "--box", "90,70,170,140", "--explain", "--baseline", "box"],
      boxModels,
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/NRRD 3×256×256 uint8, 3 components, gzip encoding/);
    const result = inspect(join(out, "photo.nrrd"));
    expect(result.shape).toEqual([256, 256]);
    expect(result.labels).toEqual({ "1": { count: 81 * 71, min: [90, 70], max: [170, 140] } });
    expect(result.geometry.directions).toEqual([
      [0.2, 0, 0],
      [0, 0.2, 0],
    ]);
  });

  it("a folder's .nrrd and .mha files are cases; a detached .mhd is named, not skipped", () => {
    const out = join(dir, "out-folder");
    const folder = tempDir();
    writeFileSync(join(folder, "a.nrrd"), readFileSync(input("ct.nrrd")));
    writeFileSync(join(folder, "b.mha"), readFileSync(input("ct.mha")));
    writeFileSync(join(folder, "notes.txt"), "not a case");
    const r = run([folder, "-o", out, "--box", info.box.join(","), "--quiet"]);
    expect(r.stderr).toBe("");
    expect(readdirSync(out).sort()).toEqual(["a.nrrd", "b.mha", "objects.csv", "timings.csv"]);
    // A detached header (.mhd + .raw, .nhdr + data) is tried and refused by name, not skipped in silence.
    writeFileSync(
      join(folder, "c.mhd"),
      "ObjectType = Image\nNDims = 3\nDimSize = 2 2 2\nElementType = MET_SHORT\nElementDataFile = c.raw\n",
    );
    writeFileSync(join(folder, "c.raw"), new Uint8Array(16));
    const withDetached = run([
      folder,
      "-o",
      join(dir, "out-folder-2"),
      "--box",
      info.box.join(","),
      "--quiet",
    ]);
    expect(withDetached.code).toBe(1);
    expect(withDetached.stderr).toMatch(/c\.mhd: detached MetaImage data \(ElementDataFile = c\.raw\)/);
    expect(readdirSync(join(dir, "out-folder-2")).sort()).toEqual([
      "a.nrrd",
      "b.mha",
      "objects.csv",
      "timings.csv",
    ]);
  });

  const bad: [string, () => Uint8Array, RegExp][] = [
    [
      "truncated.nrrd",
      () => readFileSync(input("ct.nrrd")).subarray(0, 2000),
      /corrupt or truncated gzip data/,
    ],
    [
      "short.nrrd",
      () => readFileSync(input("ct_ras_big.nrrd")).subarray(0, 9000),
      /NRRD data holds \d+ bytes, 524288 expected for sizes 256×256×4/,
    ],
    [
      "scan.nhdr",
      () =>
        new TextEncoder().encode(
          "NRRD0004\ntype: short\ndimension: 3\nsizes: 2 2 2\nencoding: raw\ndata file: scan.raw\n\n",
        ),
      /detached NRRD data files .* save the image as a single \.nrrd file/,
    ],
    ["truncated.mha", () => readFileSync(input("ct.mha")).subarray(0, 1500), /MetaImage/],
    ["short.mha", () => readFileSync(input("ct_msb.mha")).subarray(0, 9000), /MetaImage.*\b524288\b/],
    [
      "scan.mhd",
      () =>
        new TextEncoder().encode(
          "ObjectType = Image\nNDims = 3\nDimSize = 2 2 2\nElementType = MET_SHORT\nElementDataFile = scan.raw\n",
        ),
      /detached MetaImage data \(ElementDataFile = scan\.raw\)/,
    ],
  ];
  for (const [name, make, message] of bad) {
    it(`bad input ${name}: one line naming the file, exit 1, nothing written`, () => {
      const folder = tempDir();
      const path = join(folder, name);
      writeFileSync(path, make());
      const out = join(folder, "out");
      const r = run([path, "-o", out, "--box", info.box.join(",")]);
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]!.startsWith(`${path}: `)).toBe(true);
      expect(lines[0]).toMatch(message);
      expect(withoutRunTables(readdirSync(out))).toEqual([]);
    });
  }
});
