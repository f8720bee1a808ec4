import { describe, expect, it } from "vitest";
import { seededRandom } from "../testing/seededRandom.js";
import { DaftInputError } from "../errors.js";
import { dicomFixtures, expectDecodedLike } from "../testing/dicomFixtures.js";
import { inputErrorLine } from "../testing/inputErrors.js";
import { decodeJpeg2000 } from "./jpeg2000.js";

// fixtures/formats/htj2k (make_htj2k_dicom.sh): pydicom writes the native files, OpenJPH's ojph_compress the
// codestreams, ojph_expand the references for the lossy ones.
const { fileOf, pixels, framesOf } = dicomFixtures("htj2k");
const message = inputErrorLine;
/** Where a marker first occurs (its FF byte). */
const at = (bytes: Uint8Array, marker: number) =>
  bytes.findIndex((b, i) => b === 0xff && bytes[i + 1] === (marker & 0xff));

describe("HTJ2K DICOM fixtures", () => {
  const lossless: [string, string, string][] = [
    ["ct_native", "ct_htj2k", "1.2.840.10008.1.2.4.201"],
    ["ct_native", "ct_htj2k_n0", "1.2.840.10008.1.2.4.201"],
    ["ct_native", "ct_htj2k_rpcl_precincts", "1.2.840.10008.1.2.4.202"],
    ["mr12_2frames_native", "mr12_htj2k_2frames", "1.2.840.10008.1.2.4.201"],
    ["mr12_native", "mr12_htj2k_blocks", "1.2.840.10008.1.2.4.201"],
    ["us_grey_native", "us_grey_htj2k_cprl", "1.2.840.10008.1.2.4.201"],
    ["us_rgb_native", "us_rgb_htj2k_rct", "1.2.840.10008.1.2.4.201"],
    ["odd_native", "odd_htj2k_tiles", "1.2.840.10008.1.2.4.201"],
  ];
  for (const [native, packed, syntax] of lossless) {
    it(`decodes OpenJPH's ${packed} to exactly the native pixels`, () => {
      expect(fileOf(packed).transferSyntax).toMatchObject({ uid: syntax, compressed: true });
      const want = pixels(native);
      const { photometricInterpretation, ...got } = pixels(packed);
      expect({ ...got, values: undefined }).toEqual({ ...want, values: undefined });
      expect(got.values).toEqual(want.values);
      // YBR_RCT comes out as RGB after the inverse component transform.
      expect(photometricInterpretation).toBe(packed.endsWith("_rct") ? "RGB" : undefined);
    });
  }

  for (const name of ["us_grey_htj2k_lossy", "us_rgb_htj2k_lossy_ict"]) {
    it(`decodes OpenJPH's lossy ${name} as ojph_expand does, within ±1`, () => {
      expect(fileOf(name).transferSyntax.uid).toBe("1.2.840.10008.1.2.4.203");
      expectDecodedLike(name, pixels(name), pixels(`${name}_ojph_decoded`), 1);
    });
  }
});

describe("decodeJpeg2000 with HT code-blocks", () => {
  const ct = framesOf("ct_htj2k")[0]!;

  it("reads OpenJPH's codestream: a CAP marker segment and HT code-blocks", () => {
    expect(at(ct, 0xff50)).toBeGreaterThan(0);
    const cod = at(ct, 0xff52);
    expect(ct[cod + 12]! & 0x40).toBe(0x40);
    const image = decodeJpeg2000(ct, "x");
    expect(image).toMatchObject({ width: 64, height: 48, components: 1, precision: 16, signed: true });
    expect(Math.min(...image.data)).toBe(-1024);
    expect(Math.max(...image.data)).toBe(3071);
  });

  it("refuses what it does not read by name", () => {
    const cod = at(ct, 0xff52);
    const changed = (pos: number, value: number) => {
      const bytes = ct.slice();
      bytes[pos] = value;
      return bytes;
    };
    expect(message(() => decodeJpeg2000(changed(cod + 12, 0xc0), "x.j2c"))).toBe(
      "x.j2c: JPEG 2000: mixed HT and Part 1 code-blocks (HTMIXED) are not supported",
    );
  });

  it("names a corrupt cleanup segment", () => {
    // The first code-block's data follows the first packet header, just after SOD; its last two bytes hold Scup.
    // Every byte of the tile changed to FF makes the MEL/VLC length impossible or the data nonsense.
    const sod = at(ct, 0xff93);
    const bytes = ct.slice();
    bytes.fill(0xff, sod + 40);
    expect(message(() => decodeJpeg2000(bytes, "x.j2c"))).toMatch(/^x\.j2c: JPEG 2000: [^\n]+$/);
  });

  it("decodes a codestream cut within its code-block data: the code-blocks that arrived whole", () => {
    const full = decodeJpeg2000(ct).data;
    const cut = decodeJpeg2000(ct.subarray(0, Math.round(ct.length * 0.8))).data;
    expect(cut).not.toEqual(full);
    expect(cut.length).toBe(full.length);
  });

  /*
   * OpenJPH writes cleanup passes only. The HT SigProp and MagRef passes are checked on a codestream made here:
   * ct_htj2k_n0 (no wavelet transform, one 64×48 code-block, its cleanup pass at bit-plane 0) becomes the
   * cleanup pass at bit-plane 1 of an image of twice the magnitudes (one more bit-plane in QCD), plus a refinement
   * segment written below for bit-plane 0 — SigProp bits and signs forward, MagRef bits backward — and a new
   * packet header with 2 or 3 passes and two codeword segment lengths. OpenJPEG's opj_decompress (2.5) decodes
   * both codestreams made here to the same pixels as this decoder (checked by hand when this test was written).
   */
  describe("HT refinement passes", () => {
    const native = pixels("ct_native").values;
    const [w, h] = [64, 48];
    const random = seededRandom(7);
    // The finer image: |c| = 2|c_J| + a random bit, the sign kept; where c_J is 0, ±1 only next to a sample
    // significant at bit-plane 1 (SigProp visits only those).
    const fine = native.map((v, i) => {
      const x = i % w;
      const y = (i - x) / w;
      if (v !== 0) return Math.sign(v) * (2 * Math.abs(v) + (random() < 0.5 ? 1 : 0));
      let near = false;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const [xx, yy] = [x + dx, y + dy];
          if (xx >= 0 && xx < w && yy >= 0 && yy < h && native[yy * w + xx] !== 0) near = true;
        }
      }
      return near && random() < 0.5 ? (random() < 0.5 ? -1 : 1) : 0;
    });

    /** The refinement segment: SigProp bits (LSB first, a stuffed 0 after FF), then MagRef bits backward. */
    const refinement = (magRef: boolean): number[] => {
      const sigProp: number[] = [];
      const sig = new Uint8Array(w * h).map((_, i) => (native[i] !== 0 ? 1 : 0));
      const significant = (x: number, y: number) => x >= 0 && x < w && y >= 0 && y < h && sig[y * w + x]! > 0;
      for (let y0 = 0; y0 < h; y0 += 4) {
        for (let x0 = 0; x0 < w; x0 += 4) {
          const fresh: number[] = [];
          for (let x = x0; x < x0 + 4; x++) {
            for (let y = y0; y < y0 + 4; y++) {
              if (sig[y * w + x]) continue;
              let near = false;
              for (let dy = -1; dy <= 1; dy++)
                for (let dx = -1; dx <= 1; dx++) near ||= significant(x + dx, y + dy);
              if (!near) continue;
              const one = fine[y * w + x] !== 0 ? 1 : 0;
              sigProp.push(one);
              if (one) {
                sig[y * w + x] = 2;
                fresh.push(y * w + x);
              }
            }
          }
          for (const i of fresh) sigProp.push(fine[i]! < 0 ? 1 : 0);
        }
      }
      const forward: number[] = [];
      for (let k = 0, afterFF = false; k < sigProp.length;) {
        const room = afterFF ? 7 : 8;
        let byte = 0;
        for (let b = 0; b < room && k < sigProp.length; b++) byte |= sigProp[k++]! << b;
        forward.push(byte);
        afterFF = byte === 0xff;
      }
      if (!magRef) return forward;
      const refine: number[] = [];
      for (let y0 = 0; y0 < h; y0 += 4) {
        for (let x = 0; x < w; x++) {
          for (let y = y0; y < y0 + 4; y++)
            if (native[y * w + x] !== 0) refine.push(Math.abs(fine[y * w + x]!) & 1);
        }
      }
      // Backward: the first byte written is the segment's last; 7 bits when it would read 7F after one above 8F.
      const backward: number[] = [];
      for (let k = 0, afterHigh = true; k < refine.length;) {
        let byte = 0;
        let b = 0;
        for (; b < 7 && k < refine.length; b++) byte |= refine[k++]! << b;
        if (!(afterHigh && byte === 0x7f) && k < refine.length) byte |= refine[k++]! << 7;
        backward.push(byte);
        afterHigh = byte > 0x8f;
      }
      return [...forward, ...backward.reverse()];
    };

    /** Packet header bits, most significant first, a 0 bit stuffed after an FF byte. */
    const headerBytes = (bits: number[]): number[] => {
      const out: number[] = [];
      for (let k = 0; k < bits.length;) {
        const room = out[out.length - 1] === 0xff ? 7 : 8;
        let byte = 0;
        for (let b = room - 1; b >= 0; b--) byte |= (k < bits.length ? bits[k++]! : 0) << b;
        out.push(byte);
      }
      return out;
    };
    const numberBits = (value: number, n: number) =>
      Array.from({ length: n }, (_, i) => (value >> (n - 1 - i)) & 1);

    const refined = (passes: 2 | 3): Uint8Array => {
      const cs = framesOf("ct_htj2k_n0")[0]!;
      const qcd = at(cs, 0xff5c);
      const sot = at(cs, 0xff90);
      const sod = at(cs, 0xff93);
      expect([cs[qcd + 4], cs[qcd + 5]]).toEqual([0x20, 17 << 3]);
      // OpenJPH's packet header: present, included, 16 missing MSBs, one pass, Lblock 3 + 10, 13 length bits.
      const header = [...cs.subarray(sod + 2, sod + 8)].flatMap((b) => numberBits(b, 8));
      expect(header.slice(0, 20).join("")).toBe("11" + "0".repeat(16) + "10");
      const lblock = 3 + header.slice(20).indexOf(0);
      const start = 21 + lblock - 3;
      const cleanup = parseInt(header.slice(start, start + lblock).join(""), 2);
      const bodyStart = sod + 2 + Math.ceil((start + lblock) / 8);
      const body = cs.subarray(bodyStart, bodyStart + cleanup);
      expect([...cs.subarray(bodyStart + cleanup, bodyStart + cleanup + 2)]).toEqual([0xff, 0xd9]);
      const second = refinement(passes === 3);
      // Length bits: Lblock, plus one for the second segment's two passes.
      const extra = passes === 3 ? 1 : 0;
      let bits = 3;
      while (cleanup >= 2 ** bits || second.length >= 2 ** (bits + extra)) bits++;
      const packet = headerBytes([
        ...[1, 1, ...Array<number>(16).fill(0), 1],
        ...(passes === 3 ? [1, 1, 0, 0] : [1, 0]),
        ...Array<number>(bits - 3).fill(1),
        0,
        ...numberBits(cleanup, bits),
        ...numberBits(second.length, bits + extra),
      ]);
      const out = [...cs.subarray(0, sod + 2), ...packet, ...body, ...second, 0xff, 0xd9];
      out[qcd + 5] = 18 << 3; // one more bit-plane
      out.splice(sot + 6, 4, 0, 0, 0, 0); // Psot 0: the tile-part runs to EOC
      return Uint8Array.from(out);
    };

    it("decodes a cleanup, a SigProp and a MagRef pass to the finer image", () => {
      expect(Array.from(decodeJpeg2000(refined(3)).data)).toEqual(Array.from(fine));
    });

    it("decodes a cleanup and a SigProp pass: the refined bit-plane's midpoints where MagRef is missing", () => {
      const want = fine.map((v, i) => (native[i] !== 0 ? Math.sign(v) * (2 * Math.abs(native[i]!) + 1) : v));
      expect(Array.from(decodeJpeg2000(refined(2)).data)).toEqual(Array.from(want));
    });
  });

  it("fails on seeded random corruption only with DaftInputErrors, and never hangs", () => {
    const random = seededRandom(20261215);
    const streams = [
      "ct_htj2k",
      "ct_htj2k_n0",
      "ct_htj2k_rpcl_precincts",
      "mr12_htj2k_blocks",
      "us_grey_htj2k_lossy",
      "us_rgb_htj2k_rct",
      "odd_htj2k_tiles",
    ].map((name) => framesOf(name)[0]!);
    let failures = 0;
    for (const stream of streams) {
      const sod = at(stream, 0xff93);
      for (let attempt = 0; attempt < 80; attempt++) {
        const cut = random() < 0.3 ? Math.floor(random() * stream.length) : stream.length;
        const corrupt = stream.slice(0, cut);
        // In the headers, or (more often) in the code-block data, where the HT decoder reads.
        for (let k = 1 + Math.floor(random() * 4); k > 0; k--) {
          const start = random() < 0.3 ? 0 : Math.min(sod, corrupt.length - 1);
          corrupt[start + Math.floor(random() * (corrupt.length - start))] = Math.floor(random() * 256);
        }
        try {
          decodeJpeg2000(corrupt, "c.j2c");
        } catch (error) {
          failures++;
          expect(error, String(error)).toBeInstanceOf(DaftInputError);
          expect((error as DaftInputError).oneLine()).toMatch(/^c\.j2c: JPEG 2000: [^\n]+$/);
        }
      }
    }
    expect(failures).toBeGreaterThan(streams.length * 10);
  });
});
