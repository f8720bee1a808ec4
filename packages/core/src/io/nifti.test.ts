import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { inputErrorLine } from "../testing/inputErrors.js";
import {
  looksLikeNifti,
  readNifti,
  shortestFloat32,
  toZyxVolume,
  writeNifti,
  type NiftiImage,
} from "./nifti.js";

// Written by fixtures/dataset-mini/make_dataset_mini.py with nibabel: shape (x, y, z) = (4, 3, 2),
// stored value x + 10y + 100z, affine diag(0.5, 0.75, 3) with offset (-10, 20, 5), qform = sform (code 1).
const FORMATS = new URL("../../../../fixtures/dataset-mini/formats/", import.meta.url);
const AFFINE = [
  [0.5, 0, 0, -10],
  [0, 0.75, 0, 20],
  [0, 0, 3, 5],
  [0, 0, 0, 1],
];

function formatBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(name, FORMATS)));
}

function storedPattern(): number[] {
  const values: number[] = [];
  for (let z = 0; z < 2; z++)
    for (let y = 0; y < 3; y++) for (let x = 0; x < 4; x++) values.push(x + 10 * y + 100 * z);
  return values;
}

describe("readNifti", () => {
  const files: [string, 1 | 2, boolean, string, string][] = [
    ["uint8.nii.gz", 1, true, "uint8", "Uint8Array"],
    ["int8.nii", 1, true, "int8", "Int8Array"],
    ["uint16.nii", 1, true, "uint16", "Uint16Array"],
    ["int32_be.nii.gz", 1, false, "int32", "Int32Array"],
    ["uint32.nii", 1, true, "uint32", "Uint32Array"],
    ["float32.nii.gz", 1, true, "float32", "Float32Array"],
    ["float64_nifti2.nii.gz", 2, true, "float64", "Float64Array"],
    ["int16_be_nifti2.nii", 2, false, "int16", "Int16Array"],
  ];
  for (const [file, version, littleEndian, datatype, arrayType] of files) {
    it(`reads ${file}: header, affine and voxels in (x, y, z) order`, () => {
      const image = readNifti(formatBytes(file), file);
      expect(image.version).toBe(version);
      expect(image.littleEndian).toBe(littleEndian);
      expect(image.datatype).toBe(datatype);
      expect(image.data.constructor.name).toBe(arrayType);
      expect(image.dims).toEqual([4, 3, 2]);
      expect(image.pixdim).toEqual([0.5, 0.75, 3]);
      expect(image.scaled).toBe(false);
      expect(image.sformCode).toBe(1);
      expect(image.affine).toEqual(AFFINE);
      expect(image.voxOffset).toBeGreaterThanOrEqual(version === 1 ? 352 : 544);
      expect(Array.from(image.data)).toEqual(storedPattern());
    });
  }

  it("applies scl_slope / scl_inter as float32 output (big-endian int16, slope 2, inter -5)", () => {
    const image = readNifti(formatBytes("int16_be_scaled.nii"), "int16_be_scaled.nii");
    expect(image.datatype).toBe("int16");
    expect([image.sclSlope, image.sclInter, image.scaled]).toEqual([2, -5, true]);
    expect(image.data).toBeInstanceOf(Float32Array);
    expect(Array.from(image.data)).toEqual(storedPattern().map((value) => value * 2 - 5));
  });

  it("builds the affine from the qform quaternion when there is no sform", () => {
    const bytes = formatBytes("uint16.nii");
    new DataView(bytes.buffer).setInt16(254, 0, true); // sform_code = 0
    const image = readNifti(bytes, "qform-only.nii");
    expect(image.qformCode).toBe(1);
    expect(image.affine.map((row) => row.map((value) => Math.round(value * 1e6) / 1e6))).toEqual(AFFINE);
  });

  it("treats an unset vox_offset (0) in a single file as the minimum offset, as nibabel does", () => {
    const bytes = formatBytes("uint16.nii");
    new DataView(bytes.buffer).setFloat32(108, 0, true);
    const image = readNifti(bytes, "zero-offset.nii");
    expect(image.voxOffset).toBe(352);
    expect(Array.from(image.data)).toEqual(storedPattern());
  });

  it("reads int64 and uint64 voxels (nibabel's default for int64 arrays) as float64 values", () => {
    for (const [code, values] of [
      [1024, [-3n, 0n, 7n, 2n ** 40n]],
      [1280, [0n, 1n, 255n, 2n ** 52n]],
    ] as const) {
      const bytes = writeNifti(new Float64Array(4), [2, 2, 1]);
      new DataView(bytes.buffer).setInt16(70, code, true);
      const voxels = code === 1024 ? new BigInt64Array(values) : new BigUint64Array(values);
      bytes.set(new Uint8Array(voxels.buffer), 352);
      const image = readNifti(bytes, "labels.nii");
      expect(image.datatype).toBe(code === 1024 ? "int64" : "uint64");
      expect(Array.from(image.data)).toEqual(values.map(Number));
    }
  });

  it("reports corrupt, truncated and unsupported files on one line naming the file", () => {
    expect(inputErrorLine(() => readNifti(formatBytes("truncated.nii.gz"), "a.nii.gz"))).toMatch(
      /^a\.nii\.gz: corrupt or truncated gzip stream/,
    );
    expect(inputErrorLine(() => readNifti(formatBytes("uint16.nii").slice(0, 370), "b.nii"))).toMatch(
      /^b\.nii: truncated NIfTI data: 4x3x2 uint16 needs 400 bytes, file has 370$/,
    );
    expect(inputErrorLine(() => readNifti(formatBytes("uint16.nii").slice(0, 200), "c.nii"))).toMatch(
      /^c\.nii: truncated NIfTI header/,
    );
    const complex = formatBytes("uint16.nii");
    new DataView(complex.buffer).setInt16(70, 32, true);
    expect(inputErrorLine(() => readNifti(complex, "d.nii"))).toMatch(
      /^d\.nii: unsupported NIfTI datatype 32 \(complex64\)/,
    );
    const badMagic = formatBytes("uint16.nii");
    badMagic[344] = 0x78;
    expect(inputErrorLine(() => readNifti(badMagic, "e.nii"))).toMatch(/^e\.nii: bad NIfTI magic/);
    expect(inputErrorLine(() => readNifti(new Uint8Array([1, 2, 3, 4, 5]), "f.nii"))).toMatch(
      /^f\.nii: not a NIfTI file/,
    );
  });

  it("recognises NIfTI and gzip signatures", () => {
    expect(looksLikeNifti(formatBytes("uint16.nii"))).toBe(true);
    expect(looksLikeNifti(formatBytes("int16_be_nifti2.nii"))).toBe(true);
    expect(looksLikeNifti(formatBytes("float32.nii.gz"))).toBe(true);
    expect(looksLikeNifti(formatBytes("grey8.png"))).toBe(false);
  });
});

describe("toZyxVolume", () => {
  it("gives a C-order (z, y, x) array and (z, y, x) spacing without moving voxels", () => {
    const image = readNifti(formatBytes("float32.nii.gz"), "float32.nii.gz");
    const volume = toZyxVolume(image);
    expect(volume.array.shape).toEqual([2, 3, 4]);
    expect(volume.array.dtype).toBe("float32");
    expect(volume.spacing).toEqual([3, 0.75, 0.5]);
    const at = (z: number, y: number, x: number) => volume.array.data[(z * 3 + y) * 4 + x];
    expect(at(1, 2, 3)).toBe(3 + 20 + 100);
    expect(at(0, 1, 2)).toBe(2 + 10);
  });

  it("reports the float dtype of scaled data and rejects 4D series", () => {
    const scaled = readNifti(formatBytes("int16_be_scaled.nii"), "s.nii");
    expect(toZyxVolume(scaled).array.dtype).toBe("float32");
    const series: NiftiImage = { ...scaled, dims: [2, 3, 2, 2] };
    expect(inputErrorLine(() => toZyxVolume(series, "series.nii"))).toBe(
      "series.nii: expected a 3D volume, got dimensions 2x3x2x2",
    );
  });
});

describe("writeNifti", () => {
  it("round-trips every datatype, plain and gzipped", () => {
    const values = storedPattern();
    const arrays = [
      Uint8Array.from(values),
      Int8Array.from(values),
      Int16Array.from(values, (v) => -v),
      Uint16Array.from(values, (v) => v * 300),
      Int32Array.from(values, (v) => -v * 100000),
      Uint32Array.from(values, (v) => v * 1e7),
      Float32Array.from(values, (v) => v / 4),
      Float64Array.from(values, (v) => v / 3),
    ];
    for (const data of arrays) {
      for (const gzip of [false, true]) {
        const bytes = writeNifti(data, [4, 3, 2], { pixdim: [0.5, 0.75, 3], gzip });
        const back = readNifti(bytes, "roundtrip.nii");
        expect(back.data.constructor).toBe(data.constructor);
        expect(Array.from(back.data)).toEqual(Array.from(data));
        expect(back.pixdim).toEqual([0.5, 0.75, 3]);
        expect(back.affine[2]).toEqual([0, 0, 3, 0]);
      }
    }
  });

  it("rejects dims that do not match the data", () => {
    expect(inputErrorLine(() => writeNifti(new Uint8Array(5), [2, 2]))).toMatch(
      /dims 2x2 do not match 5 values/,
    );
  });

  const python = "/usr/bin/python3";
  const hasNibabel =
    existsSync(python) &&
    (() => {
      try {
        execFileSync(python, ["-c", "import nibabel"], { stdio: "ignore" });
        return true;
      } catch {
        return false;
      }
    })();
  it.skipIf(!hasNibabel)("writes files nibabel reads with the same voxels and affine", () => {
    const folder = mkdtempSync(join(tmpdir(), "daft-nifti-"));
    try {
      const path = join(folder, "written.nii.gz");
      writeFileSync(
        path,
        writeNifti(Float32Array.from(storedPattern()), [4, 3, 2], { affine: AFFINE, gzip: true }),
      );
      const script =
        "import nibabel as nib, json, sys; im = nib.load(sys.argv[1]); d = im.get_fdata(); " +
        "print(json.dumps([list(d.shape), d[3, 2, 1], im.affine.tolist(), [float(z) for z in im.header.get_zooms()]]))";
      const output = execFileSync(python, ["-c", script, path], { encoding: "utf8" });
      const [shape, value, affine, zooms] = JSON.parse(output) as [number[], number, number[][], number[]];
      expect(shape).toEqual([4, 3, 2]);
      expect(value).toBe(3 + 20 + 100);
      expect(affine).toEqual(AFFINE);
      expect(zooms).toEqual([0.5, 0.75, 3]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe("shortestFloat32", () => {
  it("gives the decimal a float32 header value was written from", () => {
    expect(shortestFloat32(Math.fround(0.7))).toBe(0.7);
    expect(shortestFloat32(Math.fround(2.5))).toBe(2.5);
    expect(shortestFloat32(Math.fround(0.123456789))).toBe(0.12345679);
    expect(shortestFloat32(0)).toBe(0);
    expect(Number.isNaN(shortestFloat32(NaN))).toBe(true);
  });
});
