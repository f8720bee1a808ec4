import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  encodeSegmentationNpz,
  fflateZipCodec,
  installZipCodec,
  writeNpz,
  type NdArray,
  type ZipCodec,
} from "@daft/core";
import { nodeZipCodec } from "./nodeZipCodec.js";

/** Runs a Python snippet with numpy; `sys.argv[1]` is the file. Returns its stdout. */
function python(code: string, file: string): string {
  return execFileSync("/usr/bin/python3", ["-c", code, file], { encoding: "utf8" });
}

// Both codecs: the portable one (browser) and node:zlib (the CLI and server).
describe.each<[string, ZipCodec]>([
  ["fflate", fflateZipCodec],
  ["node:zlib", nodeZipCodec],
])("numpy reads what writeNpz writes (%s)", (_name, codec) => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "daft-npz-"));
    installZipCodec(codec);
  });
  afterAll(async () => {
    installZipCodec(fflateZipCodec);
    await rm(dir, { recursive: true, force: true });
  });

  const arrays: Record<string, NdArray> = {
    imgs: { data: Uint8Array.from({ length: 24 }, (_, i) => i * 10), shape: [2, 4, 3], dtype: "uint8" },
    ct: { data: new Int16Array([-1024, 0, 3071]), shape: [3], dtype: "int16" },
    scores: { data: new Float32Array([0.25, -1.5]), shape: [1, 2], dtype: "float32" },
    spacing: { data: new Float64Array([2.5, 0.7, 0.7]), shape: [3], dtype: "float64" },
    half: { data: new Float32Array([0.5, 65504, -0.1]), shape: [3], dtype: "float16" },
    flags: { data: new Uint8Array([1, 0, 1]), shape: [3], dtype: "bool" },
    ids: { data: new BigInt64Array([-(2n ** 63n), 2n ** 53n + 1n]), shape: [2], dtype: "int64" },
    big: { data: new BigUint64Array([2n ** 64n - 1n]), shape: [1], dtype: "uint64" },
    scalar: { data: new Int32Array([7]), shape: [], dtype: "int32" },
    empty: { data: new Float32Array(0), shape: [0, 3], dtype: "float32" },
  };

  // numpy prints each array as "key dtype shape C-order-values"; float16 -0.1 is -0.0999755859375 in half precision.
  const expected = [
    "imgs uint8 (2, 4, 3) " +
      JSON.stringify(Array.from({ length: 24 }, (_, i) => i * 10)).replaceAll(",", ", "),
    "ct int16 (3,) [-1024, 0, 3071]",
    "scores float32 (1, 2) [0.25, -1.5]",
    "spacing float64 (3,) [2.5, 0.7, 0.7]",
    "half float16 (3,) [0.5, 65504.0, -0.0999755859375]",
    "flags bool (3,) [true, false, true]",
    "ids int64 (2,) [-9223372036854775808, 9007199254740993]",
    "big uint64 (1,) [18446744073709551615]",
    "scalar int32 () [7]",
    "empty float32 (0, 3) []",
  ];
  const dump = `
import sys, json, numpy as np
with np.load(sys.argv[1], allow_pickle=False) as z:
    for key in z.files:
        a = z[key]
        print(key, a.dtype, a.shape, json.dumps(a.reshape(-1).tolist()).replace(" ", "").replace(",", ", "))
`;

  it.each([true, false])("np.load reads every dtype exactly (compress=%s)", async (compress) => {
    const path = join(dir, `arrays-${compress}.npz`);
    await writeFile(path, writeNpz(arrays, { compress }));
    expect(python(dump, path).trim().split("\n")).toEqual(expected);
  });

  it("np.load reads a segmentation written by encodeSegmentationNpz as compressed uint16", async () => {
    const segs = Uint16Array.from({ length: 60 }, (_, i) => (i % 7 === 0 ? 2 : 0));
    const path = join(dir, "seg.npz");
    await writeFile(path, encodeSegmentationNpz(segs, [3, 4, 5]));
    const check = `
import sys, zipfile, numpy as np
z = np.load(sys.argv[1])
s = z["segs"]
print(z.files, s.dtype, s.shape, int(s.sum()), int((s == 2).sum()), zipfile.ZipFile(sys.argv[1]).infolist()[0].compress_type)
`;
    expect(python(check, path).trim()).toBe("['segs'] uint16 (3, 4, 5) 18 9 8");
  });
});
