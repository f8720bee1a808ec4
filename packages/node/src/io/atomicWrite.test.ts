import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeFileAtomic } from "./atomicWrite.js";

describe("writeFileAtomic", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "daft-atomic-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes bytes and strings, replacing an existing file, leaving no temp file", async () => {
    const path = join(dir, "out.npz");
    await writeFile(path, "old content");
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    expect(new Uint8Array(await readFile(path))).toEqual(new Uint8Array([1, 2, 3]));
    await writeFileAtomic(join(dir, "timings.csv"), "case,ms\na,1\n");
    expect(await readFile(join(dir, "timings.csv"), "utf8")).toBe("case,ms\na,1\n");
    expect((await readdir(dir)).sort()).toEqual(["out.npz", "timings.csv"]);
  });

  it("keeps one complete version when two writes race", async () => {
    const path = join(dir, "race.bin");
    const a = new Uint8Array(200_000).fill(1);
    const b = new Uint8Array(300_000).fill(2);
    await Promise.all([writeFileAtomic(path, a), writeFileAtomic(path, b)]);
    const result = new Uint8Array(await readFile(path));
    expect([a.length, b.length]).toContain(result.length);
    expect(result.every((v) => v === result[0])).toBe(true);
    expect(await readdir(dir)).toEqual(["race.bin"]);
  });

  it("a failed rename leaves the target as it was and removes the temp file", async () => {
    const target = join(dir, "taken");
    await mkdir(target);
    await writeFile(join(target, "inside.txt"), "keep");
    await expect(writeFileAtomic(target, new Uint8Array([9]))).rejects.toThrow();
    expect(await readdir(dir)).toEqual(["taken"]);
    expect(await readFile(join(target, "inside.txt"), "utf8")).toBe("keep");
  });

  it("a failed write leaves no file and no temp file", async () => {
    const path = join(dir, "never.npz");
    await expect(writeFileAtomic(path, 42 as unknown as string)).rejects.toThrow();
    expect(await readdir(dir)).toEqual([]);
  });

  it("a missing folder fails without creating anything", async () => {
    await expect(writeFileAtomic(join(dir, "missing", "out.npz"), "x")).rejects.toThrow(/ENOENT/);
    expect(await readdir(dir)).toEqual([]);
  });
});
