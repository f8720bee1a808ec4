import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodePng } from "@daft/core";
import { describe, expect, it } from "vitest";
import { openBoxesFrom } from "./boxesFrom.js";
import type { InputRef } from "./segmentInputs.js";

const input = (name: string, kind: InputRef["kind"] = "file"): InputRef => ({
  path: `/in/${name}`,
  kind,
  name,
});
const labelPng = encodePng(Uint8Array.of(0, 2, 2, 0, 0, 5), 3, 2);

async function line(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { oneLine(): string }).oneLine();
  }
  throw new Error("expected an error");
}

describe("openBoxesFrom", () => {
  const dir = mkdtempSync(join(tmpdir(), "daft-boxes-from-"));
  mkdirSync(join(dir, "labels"));
  writeFileSync(join(dir, "labels", "photo.png"), labelPng);
  writeFileSync(join(dir, "labels", "ct_series.png"), labelPng);
  writeFileSync(join(dir, "labels", "twice.png"), labelPng);
  writeFileSync(join(dir, "labels", "twice_0000.png"), labelPng);
  writeFileSync(join(dir, "labels", "notes.txt"), "not a label map");

  it("pairs each input with the folder's label map of the same name (a DICOM series by its folder name)", async () => {
    const source = await openBoxesFrom(join(dir, "labels"), [
      input("photo.jpg"),
      input("ct_series", "dicom-folder"),
    ]);
    const prompts = await source.promptsFor(input("photo.jpg"));
    expect(prompts.fromLabelMap!.file).toBe(join(dir, "labels", "photo.png"));
    expect(prompts.fromLabelMap!.map.shape).toEqual([2, 3]);
    expect(prompts).toMatchObject({ boxes: [], world: false });
    const series = await source.promptsFor(input("ct_series", "dicom-folder"));
    expect(series.fromLabelMap!.file).toBe(join(dir, "labels", "ct_series.png"));
  });

  it("names a missing or ambiguous label map, and a file given for several inputs", async () => {
    const source = await openBoxesFrom(join(dir, "labels"), [input("a.png")]);
    expect(await line(source.promptsFor(input("missing.nii.gz")))).toBe(
      `no label map for it in ${join(dir, "labels")} (looked for missing.<nii.gz|nrrd|mha|png|npz|seg.dcm>)`,
    );
    expect(await line(source.promptsFor(input("twice.png")))).toBe(
      `several label maps for it in ${join(dir, "labels")}: twice.png, twice_0000.png; keep one`,
    );
    const file = join(dir, "labels", "photo.png");
    expect(await line(openBoxesFrom(file, [input("a.png"), input("b.png")]))).toBe(
      `${file}: --boxes-from names one label map, but 2 inputs were given; give a folder of label maps named like the inputs`,
    );
    expect(await line(openBoxesFrom(join(dir, "nowhere"), [input("a.png")]))).toBe(
      `${join(dir, "nowhere")}: --boxes-from: no such file or folder`,
    );
  });
});
