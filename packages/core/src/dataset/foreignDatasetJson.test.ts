import { describe, expect, it } from "vitest";
import { DaftInputError } from "../errors.js";
import { checkDatasetJson } from "./datasetJson.js";
import {
  datasetLayout,
  modalityOfChannel,
  normaliseDatasetJson,
  type ForeignDatasetContext,
} from "./foreignDatasetJson.js";

function context(files: Record<string, string[]> = {}, extra: Partial<ForeignDatasetContext> = {}) {
  const probed: string[] = [];
  const ctx: ForeignDatasetContext = {
    folderName: "Dataset007 Liver",
    listFiles: (sub) => files[sub] ?? [],
    probeDimension: (image) => {
      probed.push(image);
      return 3;
    },
    ...extra,
  };
  return { ctx, probed };
}

const MSD = {
  name: "Hippocampus",
  modality: { "0": "MRI" },
  labels: { "0": "background", "1": "Anterior", "2": "Posterior" },
  tensorImageSize: "3D",
  training: [
    { image: "./imagesTr/hippocampus_367.nii.gz", label: "./labelsTr/hippocampus_367.nii.gz" },
    { image: "imagesTr/hippocampus_304.nii.gz", label: "labelsTr/hippocampus_304.nii.gz" },
  ],
  test: ["./imagesTs/hippocampus_267.nii.gz"],
};

const NNUNET = {
  channel_names: { "0": "CT" },
  labels: { background: 0, liver: [1, 2], tumour: 2, ignore: 3 },
  numTraining: 2,
  file_ending: ".nii.gz",
};

describe("normaliseDatasetJson", () => {
  it("tells the three layouts apart and leaves DAFT's own dataset.json as it is", () => {
    const own = { name: "x", modality: "CT", dimension: 2, labels: { a: 1 }, cases: [] };
    expect(datasetLayout(own)).toBe("daft");
    expect(datasetLayout(MSD)).toBe("msd");
    expect(datasetLayout(NNUNET)).toBe("nnunet-v2");
    expect(normaliseDatasetJson(own, context().ctx, "d.json")).toEqual({
      layout: "daft",
      json: own,
      notes: [],
    });
  });

  it("converts a Decathlon task: cases from training (./ dropped), labels id → name inverted, MRI → MR", () => {
    const { json, notes } = normaliseDatasetJson(MSD, context().ctx, "Task04/dataset.json");
    expect(notes).toEqual([]);
    expect(json).toEqual({
      name: "Hippocampus",
      modality: "MR",
      dimension: 3,
      labels: { background: 0, Anterior: 1, Posterior: 2 },
      cases: [
        { image: "imagesTr/hippocampus_367.nii.gz", label: "labelsTr/hippocampus_367.nii.gz" },
        { image: "imagesTr/hippocampus_304.nii.gz", label: "labelsTr/hippocampus_304.nii.gz" },
      ],
    });
    expect(checkDatasetJson(json, "d").objectPlan).toEqual({
      kind: "semantic",
      definitions: [
        { name: "Anterior", labelIds: [1] },
        { name: "Posterior", labelIds: [2] },
      ],
    });
  });

  it("converts an nnU-Net v2 dataset: cases from imagesTr/<case>_0000, regions kept, ignore dropped, folder name", () => {
    const files = {
      imagesTr: ["liver_1_0000.nii.gz", "liver_0_0000.nii.gz", "liver_2_0000.nii.gz", "notes.txt"],
      labelsTr: ["liver_0.nii.gz", "liver_1.nii.gz"],
    };
    const { ctx, probed } = context(files);
    const { json, notes } = normaliseDatasetJson(NNUNET, ctx, "dataset.json");
    expect(json).toEqual({
      name: "Dataset007-Liver",
      modality: "CT",
      dimension: 3,
      labels: { background: 0, liver: [1, 2], tumour: 2 },
      cases: [
        { id: "liver_0", image: "imagesTr/liver_0_0000.nii.gz", label: "labelsTr/liver_0.nii.gz" },
        { id: "liver_1", image: "imagesTr/liver_1_0000.nii.gz", label: "labelsTr/liver_1.nii.gz" },
      ],
    });
    expect(probed).toEqual(["imagesTr/liver_0_0000.nii.gz"]);
    expect(notes).toEqual([
      'the "ignore" label is not an object: dropped',
      "imagesTr/liver_2_0000.nii.gz has no labelsTr/liver_2.nii.gz: left out",
    ]);
    expect(checkDatasetJson(json, "d").cases[0]!.id).toBe("liver_0");
  });

  it("2D nnU-Net datasets by their picture ending; several channels import channel 0000 with a note", () => {
    const files = { imagesTr: ["a_0000.png", "a_0001.png"], labelsTr: ["a.png"] };
    const rgb = {
      ...NNUNET,
      channel_names: { "0": "R", "1": "G", "2": "B" },
      file_ending: ".png",
      labels: { bg: 0, polyp: 1 },
    };
    const { ctx, probed } = context(files, { modality: "Endoscopy" });
    const { json, notes } = normaliseDatasetJson(rgb, ctx, "d");
    expect(json).toMatchObject({ modality: "Endoscopy", dimension: 2, cases: [{ id: "a" }] });
    expect(probed).toEqual([]);
    expect(notes).toEqual(["3 channels (0000 R, 0001 G, 0002 B); imports channel 0000 (R) only"]);
  });

  it("refuses what it cannot import, in one line naming dataset.json", () => {
    const refusals: [unknown, RegExp, Partial<ForeignDatasetContext>?][] = [
      [
        { ...NNUNET, channel_names: { "0": "noNorm" } },
        /cannot tell the imaging modality from channel name "noNorm"; give --modality/,
      ],
      [{ ...MSD, modality: { "0": "FLAIR", "1": "T1w" } }, /2 channels \(FLAIR, T1w\) in one 4D image/],
      [{ ...MSD, tensorImageSize: "4D" }, /4D images .* are not imported/],
      [{ ...MSD, training: [] }, /training: no cases/],
      [
        { ...MSD, training: [{ image: "a.nii.gz" }] },
        /training\.0: expected \{"image": path, "label": path\}/,
      ],
      [{ ...NNUNET, file_ending: "nii.gz" }, /file_ending: expected a file ending/],
      [NNUNET, /imagesTr: no <case>_0000\.nii\.gz file with a label in labelsTr/],
    ];
    for (const [raw, message, extra] of refusals) {
      const attempt = () => normaliseDatasetJson(raw, context({}, extra).ctx, "ds/dataset.json");
      expect(attempt).toThrow(DaftInputError);
      expect(attempt).toThrow(message);
    }
    // --modality decides where the channel name cannot.
    const named = normaliseDatasetJson(
      { ...MSD, modality: { "0": "noNorm" } },
      context({}, { modality: "CT" }).ctx,
      "d",
    );
    expect(named.json).toMatchObject({ modality: "CT" });
  });

  it("maps channel names to foundation modalities", () => {
    expect(
      ["CT", "MRI", "T2", "t1gd", "FLAIR", "ADC", "PET", "US", "noNorm", "zscore"].map(modalityOfChannel),
    ).toEqual(["CT", "MR", "MR", "MR", "MR", "MR", "PET", "US", undefined, undefined]);
  });
});
