import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decode } from "fast-png";
import { afterEach, describe, expect, it } from "vitest";
import { encodePngImage, fflateZipCodec, installZipCodec, type ZipCodec } from "@daft/core";
import { nodeZipCodec } from "./nodeZipCodec.js";

const grey8 = {
  width: 7,
  height: 5,
  channels: 1 as const,
  data: Uint8Array.from({ length: 35 }, (_, i) => i * 7),
};
const grey16 = {
  width: 300,
  height: 3,
  channels: 1 as const,
  data: Uint16Array.from({ length: 900 }, (_, i) => (i * 257 + 3) % 65536),
};
const rgb = {
  width: 4,
  height: 6,
  channels: 3 as const,
  data: Uint8Array.from({ length: 72 }, (_, i) => 255 - i),
};

describe.each([
  ["fflate", fflateZipCodec],
  ["node:zlib", nodeZipCodec],
] as [string, ZipCodec][])("encodePngImage over %s", (_, codec) => {
  afterEach(() => installZipCodec(fflateZipCodec));

  it("writes grey 8-bit, grey 16-bit and RGB files that a PNG decoder reads back (CRCs checked)", () => {
    installZipCodec(codec);
    for (const image of [grey8, grey16, rgb]) {
      const png = decode(encodePngImage(image), { checkCrc: true });
      expect([png.width, png.height, png.channels, png.depth]).toEqual([
        image.width,
        image.height,
        image.channels,
        image.data instanceof Uint16Array ? 16 : 8,
      ]);
      expect(Array.from(png.data)).toEqual(Array.from(image.data));
    }
  });

  it("refuses a size that does not match the samples", () => {
    installZipCodec(codec);
    expect(() => encodePngImage({ ...grey8, width: 6 })).toThrow(/35 samples for 6x5x1/);
    expect(() => encodePngImage({ ...grey8, width: 0, data: new Uint8Array(0) })).toThrow(/bad size/);
  });
});

describe("encodePngImage read by Pillow", () => {
  it("gives Pillow the same 16-bit samples (big-endian rows) and RGB pixels", () => {
    installZipCodec(nodeZipCodec);
    const dir = mkdtempSync(join(tmpdir(), "daft-png-"));
    try {
      writeFileSync(join(dir, "g16.png"), encodePngImage(grey16));
      writeFileSync(join(dir, "rgb.png"), encodePngImage(rgb));
      const script = `
import sys, numpy as np
from PIL import Image
g = np.array(Image.open(sys.argv[1] + "/g16.png")); c = np.array(Image.open(sys.argv[1] + "/rgb.png"))
print(g.shape, int(g.astype(np.int64).sum()), int(g[2, 299]), c.shape, int(c[5, 3, 2]), int(c[0, 0, 0]))`;
      const run = spawnSync("/usr/bin/python3", ["-c", script, dir], { encoding: "utf8" });
      expect(run.status, run.stderr).toBe(0);
      const sum = grey16.data.reduce((a, b) => a + b, 0);
      expect(run.stdout.trim()).toBe(
        `(3, 300) ${sum} ${grey16.data[899]} (6, 4, 3) ${rgb.data[71]} ${rgb.data[0]}`,
      );
    } finally {
      installZipCodec(fflateZipCodec);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
