import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { folderEntries } from "./folderEntries.js";

describe("folderEntries", () => {
  let dir = "";
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("follows links to files and folders and leaves broken links as neither", async () => {
    dir = await mkdtemp(join(tmpdir(), "daft-entries-"));
    await writeFile(join(dir, "case.npz"), "x");
    await mkdir(join(dir, "series"));
    await symlink(join(dir, "case.npz"), join(dir, "linked.npz"));
    await symlink(join(dir, "series"), join(dir, "linked-series"));
    await symlink(join(dir, "missing.npz"), join(dir, "broken.npz"));
    const kinds = Object.fromEntries(
      (await folderEntries(dir)).map((e) => [
        e.name,
        e.isFile() ? "file" : e.isDirectory() ? "folder" : "none",
      ]),
    );
    expect(kinds).toEqual({
      "case.npz": "file",
      series: "folder",
      "linked.npz": "file",
      "linked-series": "folder",
      "broken.npz": "none",
    });
  });
});
