import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decode } from "fast-png";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { decodeCommonPng, decodeRaster, fflateZipCodec, installZipCodec, type ZipCodec } from "@daft/core";
import { nodeZipCodec } from "./nodeZipCodec.js";

// PNGs of every kind the common reader takes, each row filtered with a filter type of its own (all five in turn),
// written by hand in Python, and one as Pillow writes it; and of kinds it leaves to fast-png (interlaced — Adam7,
// written by hand —, palette, transparency chunk, 1-bit grey).
const SCRIPT = `
import sys, struct, zlib, numpy as np
from PIL import Image
out = sys.argv[1]

def paeth(a, b, c):
    p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)

def filtered(rows, bpp):
    # Row r uses filter type r % 5 (None, Sub, Up, Average, Paeth), as a writer may choose them.
    out, prev = b"", bytes(len(rows[0]))
    for r, row in enumerate(rows):
        f = r % 5; line = bytearray([f])
        for i, v in enumerate(row):
            a = row[i - bpp] if i >= bpp else 0; b = prev[i]; c = prev[i - bpp] if i >= bpp else 0
            pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][f]
            line.append((v - pred) % 256)
        out += bytes(line); prev = row
    return out

def write_png(path, pixels, colour, interlace=False):
    h, w = pixels.shape[:2]; depth = 16 if pixels.dtype == np.uint16 else 8
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]; bpp = channels * depth // 8
    big = pixels.astype(">u2") if depth == 16 else pixels
    if interlace:  # Adam7: seven reduced images, each filtered on its own
        raw = b""
        for x0, y0, dx, dy in [(0,0,8,8),(4,0,8,8),(0,4,4,8),(2,0,4,4),(0,2,2,4),(1,0,2,2),(0,1,1,2)]:
            sub = big[y0::dy, x0::dx]
            if sub.size: raw += filtered([sub[r].tobytes() for r in range(sub.shape[0])], bpp)
    else:
        raw = filtered([big[r].tobytes() for r in range(h)], bpp)
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    ihdr = struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, 1 if interlace else 0)
    open(path, "wb").write(b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

y, x = np.mgrid[0:37, 0:53]
base = (np.sin(x / 3.0) * 60 + np.cos(y / 4.0) * 50 + 120 + ((x * 7 + y * 13) % 17)).astype(np.uint8)
rgb = np.stack([base, (base * 3 + x) % 256, (255 - base + y) % 256], -1).astype(np.uint8)
write_png(out + "/grey8.png", base, 0)
write_png(out + "/grey16.png", ((base.astype(np.uint32) * 251 + x * 3) % 65536).astype(np.uint16), 0)
write_png(out + "/greyalpha.png", np.dstack([base, 255 - base]), 4)
write_png(out + "/rgb.png", rgb, 2)
write_png(out + "/rgba.png", np.dstack([rgb, base]), 6)
write_png(out + "/rgba16.png", (np.dstack([rgb, base]).astype(np.uint16) * 257 + 5), 6)
write_png(out + "/interlaced.png", rgb, 2, interlace=True)
Image.fromarray(rgb, "RGB").save(out + "/pillow.png")
Image.fromarray(rgb, "RGB").quantize(16).save(out + "/palette.png")
Image.fromarray(base, "L").save(out + "/transparent.png", transparency=7)
Image.fromarray(base > 128).save(out + "/bits1.png")
print("ok")
`;

let dir = "";
let written = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "daft-pngr-"));
  written = execFileSync("/usr/bin/python3", ["-c", SCRIPT, dir], { encoding: "utf8" }).trim();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const read = (name: string) => new Uint8Array(readFileSync(join(dir, name)));

describe.each([
  ["fflate", fflateZipCodec],
  ["node:zlib", nodeZipCodec],
] as [string, ZipCodec][])("decodeCommonPng over %s", (_, codec) => {
  afterEach(() => installZipCodec(fflateZipCodec));

  it("decodes grey, grey + alpha, RGB, RGBA, 8 and 16 bits to fast-png's samples, all five filter types", () => {
    installZipCodec(codec);
    expect(written).toBe("ok");
    const names = [
      "grey8.png",
      "grey16.png",
      "greyalpha.png",
      "rgb.png",
      "rgba.png",
      "rgba16.png",
      "pillow.png",
    ];
    for (const name of names) {
      const ours = decodeCommonPng(read(name));
      const theirs = decode(read(name), { checkCrc: true });
      expect(ours, name).toBeDefined();
      expect([ours!.width, ours!.height, ours!.channels, ours!.depth], name).toEqual([
        theirs.width,
        theirs.height,
        theirs.channels,
        theirs.depth,
      ]);
      expect(Array.from(ours!.data), name).toEqual(Array.from(theirs.data));
    }
  });

  it("leaves interlaced, palette, transparency and 1-bit files, and a bad CRC, to fast-png", () => {
    installZipCodec(codec);
    for (const name of ["interlaced.png", "palette.png", "transparent.png", "bits1.png"]) {
      expect(decodeCommonPng(read(name)), name).toBeUndefined();
      expect(decodeRaster(read(name), name).width).toBe(53);
    }
    const bad = read("rgb.png");
    bad[40] = bad[40]! ^ 0xff; // inside IDAT: its CRC no longer matches
    expect(decodeCommonPng(bad)).toBeUndefined();
    expect(() => decodeRaster(bad, "bad.png")).toThrow();
  });
});
