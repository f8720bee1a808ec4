import { gunzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { DaftInputError } from "../errors.js";
import { readNrrd, writeNrrd } from "./nrrd.js";

function splitHeader(bytes: Uint8Array): { header: string[]; payload: Uint8Array } {
  let end = -1;
  for (let i = 0; i + 1 < bytes.length; i++) {
    if (bytes[i] === 0x0a && bytes[i + 1] === 0x0a) {
      end = i;
      break;
    }
  }
  expect(end).toBeGreaterThan(0);
  return {
    header: new TextDecoder().decode(bytes.subarray(0, end)).split("\n"),
    payload: bytes.subarray(end + 2),
  };
}

describe("writeNrrd", () => {
  const labels = Uint16Array.from({ length: 4 * 3 * 2 }, (_, i) =>
    (i * 7) % 5 === 0 ? 0 : (i % 3) + 1 + 300,
  );

  it("writes an NRRD0004 header with type, sizes, space, directions, origin and gzip encoding", () => {
    const bytes = writeNrrd({
      type: "uint16",
      sizes: [4, 3, 2],
      data: labels,
      space: "right-anterior-superior",
      spaceDirections: [
        [-0.5, 0, 0],
        [0, -0.75, 0],
        [0, 0, 2.5],
      ],
      spaceOrigin: [10.25, -3, 7],
      content: "daft label map",
    });
    const { header } = splitHeader(bytes);
    expect(header[0]).toBe("NRRD0004");
    expect(header).toContain("type: uint16");
    expect(header).toContain("dimension: 3");
    expect(header).toContain("space: right-anterior-superior");
    expect(header).toContain("sizes: 4 3 2");
    expect(header).toContain("space directions: (-0.5,0,0) (0,-0.75,0) (0,0,2.5)");
    expect(header).toContain("space origin: (10.25,-3,7)");
    expect(header).toContain("kinds: domain domain domain");
    expect(header).toContain("endian: little");
    expect(header).toContain("encoding: gzip");
    expect(header).toContain("content: daft label map");
    // "space" must come before the fields that depend on it (teem requires it before "space directions").
    expect(header.indexOf("space: right-anterior-superior")).toBeLessThan(
      header.findIndex((l) => l.startsWith("space directions:")),
    );
  });

  it("gzips exactly the little-endian voxel bytes, x fastest", () => {
    const bytes = writeNrrd({ type: "uint16", sizes: [4, 3, 2], data: labels });
    const { payload } = splitHeader(bytes);
    const raw = gunzipSync(payload);
    expect(raw.length).toBe(labels.length * 2);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < labels.length; i++) expect(view.getUint16(2 * i, true)).toBe(labels[i]);
  });

  it("round-trips through readNrrd (gzip and raw) with geometry", () => {
    for (const gzip of [true, false]) {
      const written = {
        type: "uint16" as const,
        sizes: [4, 3, 2],
        data: labels,
        space: "left-posterior-superior" as const,
        spaceDirections: [
          [0.7, 0, 0],
          [0, 0.7, 0.1],
          [0, 0, 3],
        ],
        spaceOrigin: [-100.5, 20, 0.125],
      };
      const back = readNrrd(writeNrrd(written, { gzip }), "labels.nrrd");
      expect(back).toEqual({
        ...written,
        data: labels,
        kinds: ["domain", "domain", "domain"],
        encoding: gzip ? "gzip" : "raw",
      });
      expect(back.data).toBeInstanceOf(Uint16Array);
    }
  });

  it("writes spacings instead of a space for images without a physical frame", () => {
    const data = Uint8Array.from([0, 1, 2, 3, 4, 5]);
    const bytes = writeNrrd({ type: "uint8", sizes: [3, 2, 1], data, spacings: [0.5, 0.5, 1] });
    const { header } = splitHeader(bytes);
    expect(header).toContain("spacings: 0.5 0.5 1");
    expect(header.some((l) => l.startsWith("space"))).toBe(false);
    expect(header.some((l) => l.startsWith("endian"))).toBe(false); // one byte per voxel: no byte order
    expect(readNrrd(bytes, "p.nrrd")).toEqual({
      type: "uint8",
      sizes: [3, 2, 1],
      data,
      spacings: [0.5, 0.5, 1],
      kinds: ["domain", "domain", "domain"],
      encoding: "gzip",
    });
  });

  it("writes key/value pairs as key:=value lines and reads them apart from the fields", () => {
    const data = Uint8Array.from([0, 1]);
    const keyValues: [string, string][] = [
      ["Segment0_Name", "box 1: liver"],
      ["type", "not the field"],
      ["Segment0_Tags", "a:=b|"],
    ];
    const bytes = writeNrrd({ type: "uint8", sizes: [2], data, keyValues }, { gzip: false });
    const { header } = splitHeader(bytes);
    expect(header).toContain("Segment0_Name:=box 1: liver");
    expect(header).toContain("Segment0_Tags:=a:=b|");
    const back = readNrrd(bytes, "kv.nrrd");
    expect(back.type).toBe("uint8"); // "type:=…" is a key, not the type field
    expect(back.keyValues).toEqual(keyValues);
    expect(() => writeNrrd({ type: "uint8", sizes: [2], data, keyValues: [["a:=b", "c"]] })).toThrow(
      /cannot be written on one line/,
    );
    expect(() => writeNrrd({ type: "uint8", sizes: [2], data, keyValues: [["a", "b\nc"]] })).toThrow(
      /cannot be written on one line/,
    );
  });

  it("refuses sizes that do not match the data and a type that does not match the array", () => {
    expect(() => writeNrrd({ type: "uint16", sizes: [5, 5], data: labels })).toThrow(
      /do not match 24 values/,
    );
    expect(() => writeNrrd({ type: "uint8", sizes: [24], data: labels })).toThrow(
      /type uint8 does not match/,
    );
  });
});

describe("readNrrd", () => {
  it("names the file for a truncated gzip payload and for a file that is not NRRD", () => {
    const bytes = writeNrrd({ type: "uint16", sizes: [64, 64], data: new Uint16Array(64 * 64).fill(3) });
    const truncated = bytes.subarray(0, bytes.length - 10);
    expect(() => readNrrd(truncated, "cut.nrrd")).toThrow(DaftInputError);
    expect(() => readNrrd(truncated, "cut.nrrd")).toThrow(/corrupt or truncated gzip/);
    expect(() => readNrrd(new TextEncoder().encode("P5 2 2 255\n"), "photo.pgm")).toThrow(
      new DaftInputError("not an NRRD file (no NRRD000x magic)", "photo.pgm"),
    );
  });
});
