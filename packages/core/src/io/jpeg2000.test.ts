import { describe, expect, it } from "vitest";
import { seededRandom } from "../testing/seededRandom.js";
import { DaftInputError } from "../errors.js";
import { decodeDicomPixels } from "./dicomPixels.js";
import { dicomFixtures, expectDecodedLike } from "../testing/dicomFixtures.js";
import { inputErrorLine } from "../testing/inputErrors.js";
import { decodeJpeg2000 } from "./jpeg2000.js";

// fixtures/formats/jpeg2000 (make_jpeg2000_dicom.sh): pydicom writes the native files, OpenJPEG's opj_compress the
// codestreams, opj_decompress the references for the lossy ones.
const { fileOf, pixels, framesOf } = dicomFixtures("jpeg2000");
const message = inputErrorLine;

describe("JPEG 2000 DICOM fixtures", () => {
  const lossless: [string, string][] = [
    ["ct_native", "ct_j2k"],
    ["ct_native", "ct_j2k_n1"],
    ["ct_native", "ct_j2k_tiles"],
    ["ct_native", "ct_j2k_rpcl_precincts"],
    ["ct_native", "ct_j2k_tileparts"],
    ["ct_native", "ct_j2k_jp2"],
    ["mr12_2frames_native", "mr12_j2k_2frames"],
    ["mr12_native", "mr12_j2k_cprl_sop_eph_layers"],
    ["mr12_native", "mr12_j2k_pcrl_modes"],
    ["mr12_native", "mr12_j2k_bypass_layers"],
    ["mr12_native", "mr12_j2k_bypass_termall"],
    ["us_grey_native", "us_grey_j2k_blocks"],
    ["us_rgb_native", "us_rgb_j2k_rct"],
    ["us_rgb_native", "us_rgb_j2k_no_mct"],
    ["odd_native", "odd_j2k_offsets"],
  ];
  for (const [native, packed] of lossless) {
    it(`decodes OpenJPEG's ${packed} to exactly the native pixels`, () => {
      const want = pixels(native);
      const { photometricInterpretation, ...got } = pixels(packed);
      expect({ ...got, values: undefined }).toEqual({ ...want, values: undefined });
      expect(got.values).toEqual(want.values);
      // YBR_RCT comes out as RGB after the inverse component transform.
      expect(photometricInterpretation).toBe(packed.endsWith("_rct") ? "RGB" : undefined);
    });
  }

  for (const name of ["us_grey_j2k_lossy", "us_rgb_j2k_lossy_ict", "odd_j2k_offsets_lossy"]) {
    it(`decodes OpenJPEG's lossy ${name} as opj_decompress does, within ±1`, () => {
      expectDecodedLike(name, pixels(name), pixels(`${name}_opj_decoded`), 1);
    });
  }
});

describe("decodeJpeg2000", () => {
  const ct = framesOf("ct_j2k")[0]!;
  /** Where a marker first occurs (its FF byte). */
  const at = (bytes: Uint8Array, marker: number) =>
    bytes.findIndex((b, i) => b === 0xff && bytes[i + 1] === (marker & 0xff));

  it("reads the SIZ of OpenJPEG's codestream and of its JP2 file: 64×48, one signed 16-bit component", () => {
    const image = decodeJpeg2000(ct, "x");
    expect(image).toMatchObject({ width: 64, height: 48, components: 1, precision: 16, signed: true });
    expect(image.data).toBeInstanceOf(Int32Array);
    expect(Math.min(...image.data)).toBeLessThan(-1000);
    const jp2 = framesOf("ct_j2k_jp2")[0]!;
    expect([...jp2.subarray(4, 8)]).toEqual([0x6a, 0x50, 0x20, 0x20]);
    expect(decodeJpeg2000(jp2, "x").data).toEqual(image.data);
  });

  it("decodes several quality layers, tiles with a tile offset and interleaved colour", () => {
    expect(decodeJpeg2000(framesOf("odd_j2k_offsets")[0]!)).toMatchObject({ width: 53, height: 37 });
    expect(decodeJpeg2000(framesOf("us_rgb_j2k_rct")[0]!)).toMatchObject({
      components: 3,
      precision: 8,
      signed: false,
    });
  });

  it("refuses what it does not read by name", () => {
    const cod = at(ct, 0xff52);
    const com = at(ct, 0xff64);
    expect(cod).toBeGreaterThan(0);
    expect(com).toBeGreaterThan(0);
    const changed = (pos: number, value: number) => {
      const bytes = ct.slice();
      bytes[pos] = value;
      return bytes;
    };
    const cases: [Uint8Array, string][] = [
      [new Uint8Array([1, 2, 3]), "no SOC marker (FF4F): not a JPEG 2000 codestream"],
      [changed(43, 2), "component 0 is subsampled 2×1: component subsampling is not supported"],
      [changed(42, 0x90), "17-bit samples: up to 16 bits are supported"],
      [changed(cod + 12, 0xc0), "mixed HT and Part 1 code-blocks (HTMIXED) are not supported"],
      [changed(cod + 13, 2), "wavelet transform 2 (Part 2 arbitrary kernels) is not supported"],
      [changed(cod + 8, 2), "multiple-component transform 2 (Part 2) is not supported"],
      [changed(com + 1, 0x5f), "progression order changes (POC) are not supported"],
      [changed(com + 1, 0x60), "packed packet headers (PPM) are not supported"],
      [changed(com + 1, 0x5e), "region of interest (RGN) coding is not supported"],
    ];
    for (const [bytes, problem] of cases) {
      expect(message(() => decodeJpeg2000(bytes, "x.j2k"))).toBe(`x.j2k: JPEG 2000: ${problem}`);
    }
  });

  it("names a codestream cut within its headers, and decodes one cut within its code-block data", () => {
    expect(message(() => decodeJpeg2000(ct.subarray(0, 30), "x"))).toBe(
      "x: JPEG 2000: truncated: marker segment SIZ at byte 2 runs past the end",
    );
    const sot = at(ct, 0xff90);
    expect(message(() => decodeJpeg2000(ct.subarray(0, sot), "x"))).toBe(
      "x: JPEG 2000: truncated: the main header ends before the first tile-part (SOT)",
    );
    expect(message(() => decodeJpeg2000(ct.subarray(0, sot + 8), "x"))).toMatch(
      /^x: JPEG 2000: truncated: tile-part header at byte \d+$/,
    );
    // A tiled codestream cut after its first tile misses the others.
    const tiled = framesOf("ct_j2k_tiles")[0]!;
    const secondTile = tiled.findIndex(
      (b, i) => i > at(tiled, 0xff90) && b === 0xff && tiled[i + 1] === 0x90,
    );
    expect(message(() => decodeJpeg2000(tiled.subarray(0, secondTile), "x"))).toBe(
      "x: JPEG 2000: tile 1 of 9 has no data: the codestream is incomplete",
    );
    // Cut within the data: the packets that arrived are decoded (the lower resolutions come first in LRCP).
    const full = decodeJpeg2000(ct).data;
    const cut = decodeJpeg2000(ct.subarray(0, Math.round(ct.length * 0.6))).data;
    expect(cut).not.toEqual(full);
    let diff = 0;
    full.forEach((v, i) => (diff += Math.abs(v - cut[i]!)));
    expect(diff / full.length).toBeLessThan(100);
  });

  it("names a decoded frame that does not match the DICOM header", () => {
    const file = fileOf("ct_j2k");
    const wrong = { ...file, tags: { ...file.tags, rows: 40 } };
    expect(message(() => decodeDicomPixels(wrong, "ct.dcm"))).toMatch(
      /^ct\.dcm: JPEG 2000 frame is 64×48×1, but the DICOM header says 64×40×1/,
    );
  });

  it("fails on seeded random corruption only with DaftInputErrors, and never hangs", () => {
    const random = seededRandom(20261128);
    const streams = [
      "ct_j2k",
      "ct_j2k_tiles",
      "ct_j2k_rpcl_precincts",
      "mr12_j2k_cprl_sop_eph_layers",
      "mr12_j2k_pcrl_modes",
      "mr12_j2k_bypass_termall",
      "us_rgb_j2k_lossy_ict",
      "odd_j2k_offsets",
    ].map((name) => framesOf(name)[0]!);
    let failures = 0;
    for (const stream of streams) {
      for (let attempt = 0; attempt < 60; attempt++) {
        const cut = random() < 0.3 ? Math.floor(random() * stream.length) : stream.length;
        const corrupt = stream.slice(0, cut);
        // Mostly in the headers (the first 200 bytes), where a change matters most.
        for (let k = 1 + Math.floor(random() * 4); k > 0; k--) {
          const span = random() < 0.7 ? Math.min(200, corrupt.length) : corrupt.length;
          corrupt[Math.floor(random() * span)] = Math.floor(random() * 256);
        }
        try {
          decodeJpeg2000(corrupt, "c.j2k");
        } catch (error) {
          failures++;
          expect(error, String(error)).toBeInstanceOf(DaftInputError);
          expect((error as DaftInputError).oneLine()).toMatch(/^c\.j2k: JPEG 2000: [^\n]+$/);
        }
      }
    }
    expect(failures).toBeGreaterThan(streams.length * 10);
  });
});
