import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { readFileBytes } from "./fileBytes.js";

it("reads a file as a plain Uint8Array whose slice is a copy", async () => {
  const dir = await mkdtemp(join(tmpdir(), "daft-bytes-"));
  try {
    const path = join(dir, "a.bin");
    await writeFile(path, Uint8Array.from([1, 2, 3, 4, 5]));
    const bytes = await readFileBytes(path);
    expect(Buffer.isBuffer(bytes)).toBe(false);
    expect(Array.from(bytes)).toEqual([1, 2, 3, 4, 5]);
    const part = bytes.slice(1, 3);
    part[0] = 9;
    expect(bytes[1]).toBe(2);
    expect(part.buffer).not.toBe(bytes.buffer);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
