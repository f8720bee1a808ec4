import { readFileSync } from "node:fs";
import { decode as decodePngFile } from "fast-png";
import { encode as encodeJpegFile } from "jpeg-js";
import { describe, expect, it } from "vitest";
import { DaftInputError } from "../errors.js";
import { decodeRaster, encodePng } from "./raster.js";
import { sniffRasterFormat, toGreyOrRgb, type RasterImage } from "./rasterFormat.js";

// Files written by fixtures/dataset-mini/make_dataset_mini.py (PIL), 7 wide x 5 high, with
// grey(x, y) = (x*37 + y*11) % 256, rgb = (grey, grey+85, grey+170) % 256, alpha = (x*y*20 + 30) % 256,
// grey16 = x*9000 + y*1000 + 7; palette index = grey % 4 into [red, green, blue, (10, 20, 30)].
const FORMATS = new URL("../../../../fixtures/dataset-mini/formats/", import.meta.url);
const W = 7;
const H = 5;

function readFormat(name: string): RasterImage {
  return decodeRaster(new Uint8Array(readFileSync(new URL(name, FORMATS))), name);
}

function pattern(channels: "grey" | "rgb" | "grey_alpha" | "rgba" | "grey16" | "palette"): number[] {
  const palette = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
    [10, 20, 30],
  ];
  const out: number[] = [];
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const grey = (x * 37 + y * 11) % 256;
      const rgb = [grey, (grey + 85) % 256, (grey + 170) % 256];
      const alpha = (x * y * 20 + 30) % 256;
      if (channels === "grey") out.push(grey);
      else if (channels === "rgb") out.push(...rgb);
      else if (channels === "grey_alpha") out.push(grey, alpha);
      else if (channels === "rgba") out.push(...rgb, alpha);
      else if (channels === "grey16") out.push(x * 9000 + y * 1000 + 7);
      else out.push(...palette[grey % 4]!);
    }
  }
  return out;
}

describe("decodeRaster", () => {
  const cases: [string, RasterImage["channels"], 8 | 16, Parameters<typeof pattern>[0]][] = [
    ["grey8.png", 1, 8, "grey"],
    ["grey16.png", 1, 16, "grey16"],
    ["grey_alpha.png", 2, 8, "grey_alpha"],
    ["rgb.png", 3, 8, "rgb"],
    ["rgba.png", 4, 8, "rgba"],
    ["palette.png", 3, 8, "palette"],
    ["grey8.bmp", 1, 8, "grey"],
    ["palette8.bmp", 3, 8, "palette"],
    ["rgb24.bmp", 3, 8, "rgb"],
    ["rgba32.bmp", 4, 8, "rgba"],
    ["grey8.tif", 1, 8, "grey"],
    ["grey16.tif", 1, 16, "grey16"],
    ["rgb.tif", 3, 8, "rgb"],
    ["rgb_lzw.tif", 3, 8, "rgb"],
  ];
  for (const [file, channels, bitDepth, expected] of cases) {
    it(`decodes ${file} exactly`, () => {
      const image = readFormat(file);
      expect([image.width, image.height, image.channels, image.bitDepth]).toEqual([W, H, channels, bitDepth]);
      expect(image.data).toBeInstanceOf(bitDepth === 16 ? Uint16Array : Uint8Array);
      expect(Array.from(image.data)).toEqual(pattern(expected));
    });
  }

  it("decodes 1-bit PNG, BMP and TIFF to 0/255 grey", () => {
    const checker = Array.from({ length: W * H }, (_, p) => (((p % W) + Math.floor(p / W)) % 2) * 255);
    for (const file of ["bilevel.png", "bilevel.bmp", "bilevel.tif"]) {
      const image = readFormat(file);
      expect([image.width, image.height, image.channels, image.bitDepth], file).toEqual([W, H, 1, 8]);
      expect(Array.from(image.data), file).toEqual(checker);
    }
  });

  it("decodes top-down 16-bit (5-5-5) BMPs", () => {
    // 2x2, height -2 (first row on top): red, green / blue, white.
    const bytes = new Uint8Array(54 + 8);
    const view = new DataView(bytes.buffer);
    bytes.set([0x42, 0x4d]);
    view.setUint32(2, bytes.length, true);
    view.setUint32(10, 54, true);
    view.setUint32(14, 40, true);
    view.setInt32(18, 2, true);
    view.setInt32(22, -2, true);
    view.setUint16(26, 1, true);
    view.setUint16(28, 16, true);
    [0x7c00, 0x03e0, 0x001f, 0x7fff].forEach((pixel, i) => view.setUint16(54 + i * 2, pixel, true));
    const image = decodeRaster(bytes, "rgb555.bmp");
    expect([image.width, image.height, image.channels]).toEqual([2, 2, 3]);
    expect(Array.from(image.data)).toEqual([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
  });

  it("returns palette indices when asked (label maps stored with a palette)", () => {
    for (const file of ["palette.png", "palette8.bmp"]) {
      const bytes = new Uint8Array(readFileSync(new URL(file, FORMATS)));
      const image = decodeRaster(bytes, file, { paletteAsIndices: true });
      expect(image.channels).toBe(1);
      expect(Array.from(image.data)).toEqual(pattern("grey").map((grey) => grey % 4));
    }
  });

  it("decodes grey JPEGs to one channel and RGB JPEGs to three, close to PIL's pixels", () => {
    // 16x16, smooth = 40 + 8x + 4y; rgb = (smooth, 255 - smooth, smooth / 2), quality 100.
    const grey = readFormat("grey.jpg");
    const rgb = readFormat("rgb.jpg");
    expect([grey.width, grey.height, grey.channels]).toEqual([16, 16, 1]);
    expect([rgb.width, rgb.height, rgb.channels]).toEqual([16, 16, 3]);
    // Chroma subsampling makes colour JPEGs less exact: check the mean and the worst error.
    let greyWorst = 0;
    let rgbWorst = 0;
    let rgbTotal = 0;
    for (let y = 0; y < 16; y++) {
      for (let x = 0; x < 16; x++) {
        const smooth = 40 + 8 * x + 4 * y;
        const p = y * 16 + x;
        greyWorst = Math.max(greyWorst, Math.abs(grey.data[p]! - smooth));
        const expectedRgb = [smooth, 255 - smooth, Math.floor(smooth / 2)];
        for (let c = 0; c < 3; c++) {
          const error = Math.abs(rgb.data[p * 3 + c]! - expectedRgb[c]!);
          rgbWorst = Math.max(rgbWorst, error);
          rgbTotal += error;
        }
      }
    }
    expect(greyWorst).toBeLessThanOrEqual(3);
    expect(rgbWorst).toBeLessThanOrEqual(16);
    expect(rgbTotal / (16 * 16 * 3)).toBeLessThan(5); // PIL: mean 0.9; jpeg-js upsamples chroma without smoothing: 3.6
  });

  it("sniffs the format from magic bytes, not from the name", () => {
    const png = new Uint8Array(readFileSync(new URL("rgb.png", FORMATS)));
    expect(sniffRasterFormat(png)).toBe("png");
    expect(decodeRaster(png, "misnamed.jpg").channels).toBe(3);
    const jpeg = encodeJpegFile({ width: 2, height: 2, data: new Uint8Array(16).fill(128) }, 90).data;
    expect(sniffRasterFormat(new Uint8Array(jpeg))).toBe("jpeg");
  });

  it("reports truncated, corrupt and unknown files as one-line DaftInputErrors naming the file", () => {
    const attempts: [string, Uint8Array, RegExp][] = [
      [
        "truncated.png",
        new Uint8Array(readFileSync(new URL("truncated.png", FORMATS))),
        /corrupt or truncated PNG/,
      ],
      [
        "truncated.jpg",
        new Uint8Array(readFileSync(new URL("truncated.jpg", FORMATS))),
        /corrupt or truncated JPEG/,
      ],
      ["notes.txt", new Uint8Array([104, 101, 108, 108, 111]), /unknown file signature/],
      ["empty.png", new Uint8Array(0), /unknown file signature/],
      ["short.tif", new Uint8Array(readFileSync(new URL("rgb.tif", FORMATS))).slice(0, 100), /TIFF/],
      ["short.bmp", new Uint8Array(readFileSync(new URL("rgb24.bmp", FORMATS))).slice(0, 80), /BMP/],
    ];
    for (const [name, bytes, problem] of attempts) {
      let caught: unknown;
      try {
        decodeRaster(bytes, name);
      } catch (error) {
        caught = error;
      }
      expect(caught, name).toBeInstanceOf(DaftInputError);
      const line = (caught as DaftInputError).oneLine();
      expect(line.startsWith(`${name}: `)).toBe(true);
      expect(line).toMatch(problem);
      expect(line).not.toContain("\n");
    }
  });
});

describe("toGreyOrRgb", () => {
  it("drops alpha: RGBA → RGB, grey+alpha → grey, and leaves grey and RGB alone", () => {
    const rgb = toGreyOrRgb(readFormat("rgba.png"));
    expect(rgb.channels).toBe(3);
    expect(Array.from(rgb.data)).toEqual(pattern("rgb"));
    const grey = toGreyOrRgb(readFormat("grey_alpha.png"));
    expect(grey.channels).toBe(1);
    expect(Array.from(grey.data)).toEqual(pattern("grey"));
    const plain = readFormat("rgb.png");
    expect(toGreyOrRgb(plain)).toBe(plain);
  });
});

describe("encodePng", () => {
  it("round-trips uint8 and uint16 label maps", () => {
    const labels8 = Uint8Array.from({ length: 12 }, (_, i) => i % 3);
    const labels16 = Uint16Array.from({ length: 12 }, (_, i) => i * 5000);
    for (const labels of [labels8, labels16]) {
      const png = encodePng(labels, 4, 3);
      const back = decodeRaster(png, "labels.png");
      expect([back.width, back.height, back.channels, back.bitDepth]).toEqual([
        4,
        3,
        1,
        labels instanceof Uint16Array ? 16 : 8,
      ]);
      expect(Array.from(back.data)).toEqual(Array.from(labels));
      expect(decodePngFile(png).depth).toBe(back.bitDepth);
    }
  });

  it("rejects a label map of the wrong size", () => {
    expect(() => encodePng(new Uint8Array(5), 2, 2)).toThrow(/5 values, expected 2x2/);
  });
});
