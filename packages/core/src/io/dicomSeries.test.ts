import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { applyAffine, type Affine } from "../image/geometry.js";
import { inputErrorLine } from "../testing/inputErrors.js";
import { decodeDicomStudy, SeriesValues, type DicomFileBytes } from "./dicomSeries.js";

const FIXTURES = new URL("../../../../fixtures/formats/", import.meta.url);
const expected = JSON.parse(readFileSync(new URL("expected.json", FIXTURES), "utf8"));

function fixtureSeries(): DicomFileBytes[] {
  const folder = new URL("ct_series/", FIXTURES);
  return readdirSync(folder)
    .filter((name) => name.startsWith("IM"))
    .map((name) => ({
      name: `ct_series/${name}`,
      bytes: new Uint8Array(readFileSync(new URL(name, folder))),
    }));
}

function expectAffine(actual: Affine, wanted: number[][]): void {
  for (let r = 0; r < 4; r++)
    for (let c = 0; c < 4; c++) expect(actual[r]![c]).toBeCloseTo(wanted[r]![c]!, 6);
}

// ---------------------------------------------------------------------------------------------------------------
// Hand-made Explicit VR Little Endian files, for the cases pydicom fixtures do not cover.

interface SliceSpec {
  position?: number[];
  orientation?: number[];
  spacing?: number[];
  rows?: number;
  columns?: number;
  series?: string;
  modality?: string;
  frames?: number;
  photometric?: string;
  samples?: number;
  pixels?: number[];
  /** Leave out Pixel Data (like a DICOMDIR or a structured report). */
  noPixels?: boolean;
}

function element(group: number, el: number, vr: string, value: number[]): number[] {
  const head = [group & 0xff, group >> 8, el & 0xff, el >> 8, vr.charCodeAt(0), vr.charCodeAt(1)];
  const len = value.length;
  return vr === "OW" || vr === "OB"
    ? [...head, 0, 0, len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, len >>> 24, ...value]
    : [...head, len & 0xff, len >> 8, ...value];
}
const text = (s: string) => {
  const b = [...s].map((c) => c.charCodeAt(0));
  if (b.length % 2) b.push(0x20);
  return b;
};
const us = (v: number) => [v & 0xff, v >> 8];

function slice(spec: SliceSpec): Uint8Array {
  const rows = spec.rows ?? 2;
  const columns = spec.columns ?? 3;
  const samples = spec.samples ?? 1;
  const frames = spec.frames ?? 1;
  const pixels = spec.pixels ?? Array.from({ length: rows * columns * samples * frames }, (_, i) => i * 10);
  const ds: number[] = [
    ...element(0x0008, 0x0060, "CS", text(spec.modality ?? "MR")),
    ...element(0x0020, 0x000e, "UI", text(spec.series ?? "1.2.3")),
  ];
  if (spec.position) ds.push(...element(0x0020, 0x0032, "DS", text(spec.position.join("\\"))));
  if (spec.orientation !== undefined || spec.position) {
    const o = spec.orientation ?? [1, 0, 0, 0, 1, 0];
    ds.push(...element(0x0020, 0x0037, "DS", text(o.join("\\"))));
  }
  ds.push(
    ...element(0x0028, 0x0002, "US", us(samples)),
    ...element(0x0028, 0x0004, "CS", text(spec.photometric ?? (samples === 3 ? "RGB" : "MONOCHROME2"))),
  );
  if (frames > 1) ds.push(...element(0x0028, 0x0008, "IS", text(String(frames))));
  ds.push(...element(0x0028, 0x0010, "US", us(rows)), ...element(0x0028, 0x0011, "US", us(columns)));
  ds.push(...element(0x0028, 0x0030, "DS", text((spec.spacing ?? [0.5, 0.25]).join("\\"))));
  ds.push(
    ...element(0x0028, 0x0100, "US", us(8)),
    ...element(0x0028, 0x0101, "US", us(8)),
    ...element(0x0028, 0x0103, "US", us(0)),
  );
  if (!spec.noPixels) ds.push(...element(0x7fe0, 0x0010, "OB", pixels.length % 2 ? [...pixels, 0] : pixels));
  const meta = element(0x0002, 0x0010, "UI", text("1.2.840.10008.1.2.1\0"));
  const out = new Uint8Array(132 + meta.length + ds.length);
  out.set([0x44, 0x49, 0x43, 0x4d], 128);
  out.set(meta, 132);
  out.set(ds, 132 + meta.length);
  return out;
}

const stack = (zs: number[], extra: SliceSpec = {}): DicomFileBytes[] =>
  zs.map((z, k) => ({ name: `s${k}.dcm`, bytes: slice({ position: [0, 0, z], ...extra }) }));

function problem(files: DicomFileBytes[]): string {
  return inputErrorLine(() => decodeDicomStudy(files, "series"));
}

describe("decodeDicomStudy on a pydicom-written series", () => {
  it("sorts slices along the normal, applies each slice's rescale and builds the LPS affine", () => {
    const study = decodeDicomStudy(fixtureSeries(), "ct_series");
    const want = expected.ct_series;
    expect(study.format).toBe("dicom-series");
    expect([study.width, study.height, study.depth]).toEqual(want.size_xyz);
    expect(study.dimension).toBe(3);
    expect(study.modality).toBe("CT");
    expect(study.geometry?.space).toBe("LPS");
    expectAffine(study.geometry!.affine, want.affine_lps);
    study.spacing!.forEach((v, i) => expect(v).toBeCloseTo(want.spacing_zyx[i], 6));
    expect(Array.from(study.values)).toEqual(want.values);
    expect(study.eightBit).toBe(false);
  });

  it("keeps what a DICOM-SEG needs: each sorted slice's instance and position, study UID, plane geometry", () => {
    const dicom = decodeDicomStudy(fixtureSeries(), "ct_series").dicom!;
    const uid = "1.2.826.0.1.3680043.8.498.77";
    // make_formats_fixtures.py gives sorted slice k the instance number 10 - k.
    expect(dicom.slices.map((s) => s.sopInstanceUID)).toEqual([10, 9, 8, 7].map((n) => `${uid}.2.${n}`));
    expect(dicom.slices.every((s) => s.sopClassUID === "1.2.840.10008.5.1.4.1.1.2")).toBe(true);
    const positions = dicom.slices.map((s) => s.imagePositionPatient!);
    expect(positions[0]).toEqual(expected.ct_series.affine_lps.map((row: number[]) => row[3]).slice(0, 3));
    expect(dicom.seriesInstanceUID).toBe(`${uid}.2`);
    expect(dicom.copied).toEqual({ studyInstanceUID: `${uid}.1` });
    expect(dicom.frameOfReferenceUID).toBeUndefined();
    expect([dicom.rows, dicom.columns, dicom.sliceThickness]).toEqual([4, 5, 2.5]);
    expect(dicom.sliceSpacing).toBeCloseTo(2.5, 6);
    expect(dicom.pixelSpacing).toEqual([0.6, 0.8]);
  });

  it("file order does not matter", () => {
    const a = decodeDicomStudy(fixtureSeries(), "ct_series");
    const b = decodeDicomStudy(fixtureSeries().reverse(), "ct_series");
    expect(Array.from(b.values)).toEqual(Array.from(a.values));
  });

  it("a single RGB ultrasound image is a 2D colour study placed in space", () => {
    const bytes = new Uint8Array(readFileSync(new URL("us_rgb.dcm", FIXTURES)));
    const study = decodeDicomStudy([{ name: "us_rgb.dcm", bytes }], "us_rgb.dcm");
    expect([study.dimension, study.width, study.height, study.channels]).toEqual([2, 3, 2, 3]);
    expect(Array.from(study.values)).toEqual(expected["us_rgb.dcm"].values);
    expect(study.eightBit).toBe(true);
    expect(study.modality).toBe("US");
    expect(applyAffine(study.geometry!.affine, [2, 1, 0])).toEqual([1.2, 2.2, 3]);
  });
});

describe("SeriesValues", () => {
  it("keeps int16 while every value is an integer in its range, the same numbers either way", () => {
    const volume = new SeriesValues(6);
    volume.set(Float32Array.from([-1024, 0, 40]), 0);
    volume.set(Float32Array.from([32767, -32768, -0]), 3);
    const values = volume.values();
    expect(values).toBeInstanceOf(Int16Array);
    expect(Array.from(values)).toEqual([-1024, 0, 40, 32767, -32768, 0]);
  });

  it("turns float32 from the first slice that is not, keeping what came before", () => {
    for (const odd of [0.5, 40000, -40000, NaN]) {
      const volume = new SeriesValues(9);
      volume.set(Float32Array.from([1, 2, 3]), 0);
      volume.set(Float32Array.from([4, odd, 6]), 3);
      volume.set(Float32Array.from([7, 8, 9]), 6);
      const values = volume.values();
      expect(values).toBeInstanceOf(Float32Array);
      expect(Array.from(values)).toEqual([1, 2, 3, 4, odd, 6, 7, 8, 9]);
    }
  });
});

describe("decodeDicomStudy on hand-made files", () => {
  it("uses the positions, not the file order, and measures the spacing from them", () => {
    const study = decodeDicomStudy(stack([6, 0, 3]), "series");
    expect(study.spacing![0]).toBeCloseTo(3, 9);
    // s1 (z = 0) comes first: its first pixel is 0; all files share pixel values, so check the origin instead.
    expect(study.geometry!.affine.map((r) => r[3])).toEqual([0, 0, 0, 1]);
    expect(study.geometry!.affine[2]![2]).toBeCloseTo(3, 9);
  });

  it("a flipped normal (positions decreasing along it) still sorts ascending along the normal", () => {
    // Column cosines (0,-1,0): the normal is (0,0,-1); ascending along it means decreasing z.
    const files = stack([0, 2, 4], { orientation: [1, 0, 0, 0, -1, 0] });
    const study = decodeDicomStudy(files, "series");
    expect(study.geometry!.affine[2]![3]).toBe(4); // origin at the highest z
    expect(study.geometry!.affine[2]![2]).toBeCloseTo(-2, 9);
  });

  it("MONOCHROME1 is marked for inversion", () => {
    const study = decodeDicomStudy(stack([0, 1], { photometric: "MONOCHROME1" }), "series");
    expect(study.invert).toBe(true);
  });

  it("YBR_FULL single images are converted to RGB", () => {
    const bytes = slice({
      rows: 1,
      columns: 1,
      samples: 3,
      photometric: "YBR_FULL",
      pixels: [128, 128, 128],
    });
    const study = decodeDicomStudy([{ name: "ybr.dcm", bytes }], "ybr.dcm");
    expect(Array.from(study.values)).toEqual([128, 128, 128]);
    const red = slice({ rows: 1, columns: 1, samples: 3, photometric: "YBR_FULL", pixels: [76, 85, 255] });
    const rgb = Array.from(decodeDicomStudy([{ name: "r.dcm", bytes: red }], "r.dcm").values);
    expect(rgb[0]).toBeGreaterThan(250);
    expect(rgb[1]).toBeLessThan(5);
    expect(rgb[2]).toBeLessThan(5);
  });

  it("a single PALETTE COLOR image is a 2D 8-bit colour study, also with 16-bit indices", () => {
    const name = "compressed/pal_index16_native.dcm";
    const study = decodeDicomStudy(
      [{ name, bytes: new Uint8Array(readFileSync(new URL(name, FIXTURES))) }],
      name,
    );
    expect([study.dimension, study.width, study.height, study.channels]).toEqual([2, 64, 48, 3]);
    expect(study.eightBit).toBe(true);
    expect(study.values.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)).toBe(true);
  });

  it("an image without a patient position is still a study, but not positioned", () => {
    const study = decodeDicomStudy([{ name: "xc.dcm", bytes: slice({}) }], "xc.dcm");
    expect(study.geometry!.positioned).toBe(false);
    expect(study.dicom).toMatchObject({ rows: 2, columns: 3, slices: [{}], copied: {} });
    expect(study.geometry!.affine[0]![0]).toBe(0.25);
    expect(study.geometry!.affine[1]![1]).toBe(0.5);
  });

  it("skips files without pixel data but refuses a folder with none", () => {
    const dicomdir = { name: "DICOMDIR", bytes: slice({ noPixels: true }) };
    expect(decodeDicomStudy([dicomdir, ...stack([0, 1])], "series").depth).toBe(2);
    expect(problem([dicomdir])).toBe("series: no DICOM image with pixel data among 1 file(s)");
  });

  const errors: [string, () => DicomFileBytes[], RegExp][] = [
    [
      "two series",
      () => [...stack([0, 1]), { name: "x.dcm", bytes: slice({ position: [0, 0, 2], series: "9.9" }) }],
      /^series: holds 2 DICOM series .*one series per folder/,
    ],
    ["two images at one position", () => stack([0, 1, 1, 2]), /same position .*echoes/],
    [
      "a missing slice",
      () => stack([0, 1, 2, 4, 5]),
      /uneven slice spacing: 2 mm between s2\.dcm and s3\.dcm, 1 mm elsewhere/,
    ],
    [
      "no ImagePositionPatient",
      () => [...stack([0]), { name: "bare.dcm", bytes: slice({}) }],
      /^bare\.dcm: a series slice needs ImagePositionPatient \(0020,0032\), ImageOrientationPatient/,
    ],
    [
      "different sizes",
      () => [...stack([0]), { name: "big.dcm", bytes: slice({ position: [0, 0, 1], rows: 3 }) }],
      /^big\.dcm: slice size 3×3 differs from 3×2/,
    ],
    [
      "different orientation",
      () => [
        ...stack([0]),
        { name: "o.dcm", bytes: slice({ position: [0, 0, 1], orientation: [0, 1, 0, 1, 0, 0] }) },
      ],
      /^o\.dcm: ImageOrientationPatient .* differs/,
    ],
    [
      "not unit cosines",
      () => stack([0, 1], { orientation: [2, 0, 0, 0, 1, 0] }),
      /not two orthogonal unit vectors/,
    ],
    [
      "multi-frame",
      () => [{ name: "mf.dcm", bytes: slice({ frames: 3 }) }],
      /^mf\.dcm: multi-frame DICOM \(3 frames\)/,
    ],
    [
      "palette colour without its lookup tables",
      () => [{ name: "p.dcm", bytes: slice({ photometric: "PALETTE COLOR" }) }],
      /^p\.dcm: PALETTE COLOR without a Red Palette Color Lookup Table Descriptor \(0028,1101\)$/,
    ],
    [
      "a palette colour series",
      () => stack([0, 1], { photometric: "PALETTE COLOR" }),
      /^s\d\.dcm: series slices must be greyscale; this one is PALETTE COLOR$/,
    ],
    [
      "a truncated slice",
      () => [...stack([0]), { name: "cut.dcm", bytes: slice({ position: [0, 0, 1] }).slice(0, 200) }],
      /^cut\.dcm: truncated/,
    ],
  ];
  for (const [name, files, message] of errors) {
    it(`refuses ${name} with one line`, () => {
      const line = problem(files());
      expect(line).toMatch(message);
      expect(line).not.toContain("\n");
    });
  }
});
