import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { listInputs } from "./segmentInputs.js";

describe("listInputs", () => {
  let dir = "";
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("takes case files linked into a folder, and a linked DICOM series folder, as their targets", async () => {
    dir = await mkdtemp(join(tmpdir(), "daft-inputs-"));
    const store = join(dir, "store");
    const work = join(dir, "work");
    await mkdir(join(store, "series"), { recursive: true });
    await mkdir(work);
    await writeFile(join(store, "a.npz"), "x");
    await writeFile(join(store, "series", "IM0001.dcm"), "x");
    await writeFile(join(work, "b.nii.gz"), "x");
    await writeFile(join(work, "notes.txt"), "x");
    await symlink(join(store, "a.npz"), join(work, "a.npz"));
    await symlink(join(store, "series"), join(work, "series"));
    await symlink(join(store, "gone.npz"), join(work, "gone.npz"));
    expect(await listInputs([work])).toEqual([
      { path: join(work, "a.npz"), kind: "file", name: "a.npz" },
      { path: join(work, "b.nii.gz"), kind: "file", name: "b.nii.gz" },
      { path: join(work, "series"), kind: "dicom-folder", name: "series" },
    ]);
  });
});
