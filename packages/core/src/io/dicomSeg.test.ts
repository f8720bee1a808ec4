import { describe, expect, it } from "vitest";
import { inputErrorLine } from "../testing/inputErrors.js";
import { readDicom } from "./dicom.js";
import type { DicomDataSet, DicomElement } from "./dicomEncoder.js";
import { buildDicomSeg, encodeDicomSeg, SEGMENTATION_STORAGE, type DicomSegOptions } from "./dicomSeg.js";
import type { DicomSource } from "./dicomSource.js";
import { smallSeriesSource as seriesSource } from "../testing/dicomSeries.js";
import { TAG } from "./dicomTagNumbers.js";

// Label 1 on slices 0 and 2, label 3 on slice 1, no label 2 (a box fully covered by a later one).
const labels = Uint16Array.from(
  [
    [1, 1, 0, 0, 0, 0],
    [0, 0, 3, 3, 3, 0],
    [0, 0, 0, 0, 0, 1],
  ].flat(),
);

function options(): DicomSegOptions {
  let n = 0;
  return {
    expert: "general",
    softwareVersion: "0.1.0",
    createdAt: new Date(2025, 0, 31, 14, 5, 9, 7),
    newUid: () => `2.25.${++n}`,
  };
}

const find = (dataSet: DicomDataSet, tag: number): DicomElement | undefined =>
  dataSet.find((e) => e.tag === tag);
function value(dataSet: DicomDataSet, tag: number): unknown {
  const e = find(dataSet, tag);
  if (!e) throw new Error(`no element ${tag.toString(16)}`);
  return e.value;
}
const items = (dataSet: DicomDataSet, tag: number) => value(dataSet, tag) as DicomDataSet[];
const item = (dataSet: DicomDataSet, tag: number) => items(dataSet, tag)[0]!;

function built(source = seriesSource(), map = labels) {
  const seg = buildDicomSeg(source, map, options(), "series");
  if (!seg) throw new Error("no SEG");
  return seg;
}

describe("buildDicomSeg on a series", () => {
  it("makes frames only for (segment, slice) pairs with voxels, segment-major", () => {
    const seg = built();
    expect(seg.frames).toEqual([
      { segment: 1, slice: 0 },
      { segment: 1, slice: 2 },
      { segment: 3, slice: 1 },
    ]);
    expect(value(seg.dataSet, TAG.NumberOfFrames)).toBe("3");
    // 3 frames × 6 bits = 18 bits → 3 bytes → 4 (even). Frame 0: bits 0, 1; frame 1: bit 6 + 5 = 11;
    // frame 2: bits 12 + 2..4 = 14, 15, 16 — across a byte boundary.
    expect(Array.from(value(seg.dataSet, TAG.PixelData) as Uint8Array)).toEqual([
      0b00000011, 0b11001000, 0b00000001, 0,
    ]);
  });

  it("numbers segments 1..largest label; a label without voxels is a segment without frames", () => {
    const segments = items(built().dataSet, TAG.SegmentSequence);
    expect(segments.map((s) => value(s, TAG.SegmentNumber))).toEqual([[1], [2], [3]]);
    expect(segments.map((s) => value(s, TAG.SegmentLabel))).toEqual(["box 1", "box 2", "box 3"]);
    expect(segments.map((s) => find(s, TAG.SegmentDescription) !== undefined)).toEqual([false, true, false]);
    for (const s of segments) {
      expect(value(s, TAG.SegmentAlgorithmType)).toBe("AUTOMATIC");
      expect(value(s, TAG.SegmentAlgorithmName)).toBe("DAFT general");
      for (const codes of [
        TAG.SegmentedPropertyCategoryCodeSequence,
        TAG.SegmentedPropertyTypeCodeSequence,
      ]) {
        const code = item(s, codes);
        expect([value(code, TAG.CodeValue), value(code, TAG.CodingSchemeDesignator)]).toEqual([
          "85756007",
          "SCT",
        ]);
      }
      expect((value(s, TAG.RecommendedDisplayCIELabValue) as number[]).length).toBe(3);
    }
  });

  it("refers each frame to its source image, with dimension index values (segment, slice + 1) and its position", () => {
    const perFrame = items(built().dataSet, TAG.PerFrameFunctionalGroupsSequence);
    const summary = perFrame.map((frame) => {
      const derivation = item(frame, TAG.DerivationImageSequence);
      const source = item(derivation, TAG.SourceImageSequence);
      return {
        segment: value(item(frame, TAG.SegmentIdentificationSequence), TAG.ReferencedSegmentNumber),
        index: value(item(frame, TAG.FrameContentSequence), TAG.DimensionIndexValues),
        image: value(source, TAG.ReferencedSOPInstanceUID),
        purpose: value(item(source, TAG.PurposeOfReferenceCodeSequence), TAG.CodeValue),
        derivation: value(item(derivation, TAG.DerivationCodeSequence), TAG.CodeValue),
        position: value(item(frame, TAG.PlanePositionSequence), TAG.ImagePositionPatient),
      };
    });
    expect(summary).toEqual([
      {
        segment: [1],
        index: [1, 1],
        image: "1.2.3.1",
        purpose: "121322",
        derivation: "113076",
        position: ["-10", "5", "0"],
      },
      {
        segment: [1],
        index: [1, 3],
        image: "1.2.3.3",
        purpose: "121322",
        derivation: "113076",
        position: ["-10", "5", "5"],
      },
      {
        segment: [3],
        index: [3, 2],
        image: "1.2.3.2",
        purpose: "121322",
        derivation: "113076",
        position: ["-10", "5", "2.5"],
      },
    ]);
  });

  it("refers to the frames of an enhanced multi-frame source by Referenced Frame Number, listing it once", () => {
    const slices = seriesSource().slices.map((s, k) => ({
      ...s,
      sopInstanceUID: "1.2.3.77",
      frameNumber: k + 1,
    }));
    const { dataSet } = built(seriesSource({ slices }));
    const frames = items(dataSet, TAG.PerFrameFunctionalGroupsSequence).map((frame) => {
      const source = item(item(frame, TAG.DerivationImageSequence), TAG.SourceImageSequence);
      return [value(source, TAG.ReferencedSOPInstanceUID), value(source, TAG.ReferencedFrameNumber)];
    });
    expect(frames).toEqual([
      ["1.2.3.77", "1"],
      ["1.2.3.77", "3"],
      ["1.2.3.77", "2"],
    ]);
    const referenced = items(item(dataSet, TAG.ReferencedSeriesSequence), TAG.ReferencedInstanceSequence);
    expect(referenced.map((r) => value(r, TAG.ReferencedSOPInstanceUID))).toEqual(["1.2.3.77"]);
  });

  it("says SEMIAUTOMATIC after hand corrections and MANUAL (no algorithm named) without the engine", () => {
    for (const [algorithmType, name] of [
      ["SEMIAUTOMATIC", "DAFT general"],
      ["MANUAL", undefined],
    ] as const) {
      const seg = buildDicomSeg(
        seriesSource(),
        labels,
        { ...options(), algorithmType, modelName: "daft web" },
        "s",
      );
      for (const s of items(seg!.dataSet, TAG.SegmentSequence)) {
        expect(value(s, TAG.SegmentAlgorithmType)).toBe(algorithmType);
        expect(find(s, TAG.SegmentAlgorithmName)?.value).toBe(name);
      }
      expect(value(seg!.dataSet, TAG.ManufacturerModelName)).toBe("daft web");
    }
  });

  it("declares the two dimensions and shares orientation and pixel measures", () => {
    const { dataSet } = built();
    const organization = value(
      item(dataSet, TAG.DimensionOrganizationSequence),
      TAG.DimensionOrganizationUID,
    );
    const dimensions = items(dataSet, TAG.DimensionIndexSequence);
    expect(
      dimensions.map((d) => [value(d, TAG.DimensionIndexPointer), value(d, TAG.FunctionalGroupPointer)]),
    ).toEqual([
      [[TAG.ReferencedSegmentNumber], [TAG.SegmentIdentificationSequence]],
      [[TAG.ImagePositionPatient], [TAG.PlanePositionSequence]],
    ]);
    for (const d of dimensions) expect(value(d, TAG.DimensionOrganizationUID)).toBe(organization);
    const shared = item(dataSet, TAG.SharedFunctionalGroupsSequence);
    expect(value(item(shared, TAG.PlaneOrientationSequence), TAG.ImageOrientationPatient)).toEqual([
      "1",
      "0",
      "0",
      "0",
      "1",
      "0",
    ]);
    const measures = item(shared, TAG.PixelMeasuresSequence);
    expect(value(measures, TAG.PixelSpacing)).toEqual(["0.8", "0.7"]);
    expect(value(measures, TAG.SliceThickness)).toEqual(["2.5"]);
    expect(value(measures, TAG.SpacingBetweenSlices)).toEqual(["2.5"]);
  });

  it("references every source image of the series (Common Instance Reference)", () => {
    const series = item(built().dataSet, TAG.ReferencedSeriesSequence);
    expect(value(series, TAG.SeriesInstanceUID)).toBe("1.2.3");
    expect(
      items(series, TAG.ReferencedInstanceSequence).map((i) => value(i, TAG.ReferencedSOPInstanceUID)),
    ).toEqual(["1.2.3.1", "1.2.3.2", "1.2.3.3"]);
  });

  it("copies patient and study attributes (absent ones empty), takes new UIDs and the given time", () => {
    const { dataSet, sopInstanceUID } = built();
    expect(value(dataSet, TAG.PatientName)).toBe("Doe^Jane");
    expect(value(dataSet, TAG.PatientSex)).toBe("");
    expect(value(dataSet, TAG.StudyInstanceUID)).toBe("1.2");
    expect(value(dataSet, TAG.AccessionNumber)).toBe("A1");
    expect(value(dataSet, TAG.ReferringPhysicianName)).toBe("");
    expect(value(dataSet, TAG.FrameOfReferenceUID)).toBe("1.2.9");
    expect(sopInstanceUID).toBe("2.25.1");
    expect(value(dataSet, TAG.SOPInstanceUID)).toBe("2.25.1");
    expect(value(dataSet, TAG.SeriesInstanceUID)).toBe("2.25.2");
    expect(value(dataSet, TAG.ContentDate)).toBe("20250131");
    expect(value(dataSet, TAG.ContentTime)).toBe("140509.007");
    expect(value(dataSet, TAG.ImageType)).toEqual(["DERIVED", "PRIMARY"]);
    expect(value(dataSet, TAG.LossyImageCompression)).toBe("00");
  });

  it("says the SEG is lossy when a source image was, with its ratio and method", () => {
    const source = seriesSource({ lossyCompression: { ratio: "10", method: "ISO_10918_1" } });
    const { dataSet } = built(source);
    expect(value(dataSet, TAG.LossyImageCompression)).toBe("01");
    expect(value(dataSet, TAG.LossyImageCompressionRatio)).toBe("10");
    expect(value(dataSet, TAG.LossyImageCompressionMethod)).toBe("ISO_10918_1");
  });
});

describe("encodeDicomSeg", () => {
  it("writes a Part 10 Segmentation Storage file readDicom reads back", () => {
    const result = encodeDicomSeg(seriesSource(), labels, options(), "series");
    if (!result.written) throw new Error(result.reason);
    expect([result.segments, result.frames]).toEqual([3, 3]);
    const file = readDicom(result.bytes, "seg.dcm");
    expect(file.mediaStorageSOPClassUID).toBe(SEGMENTATION_STORAGE);
    expect(file.tags).toMatchObject({
      sopClassUID: SEGMENTATION_STORAGE,
      sopInstanceUID: "2.25.1",
      seriesInstanceUID: "2.25.2",
      studyInstanceUID: "1.2",
      modality: "SEG",
      rows: 2,
      columns: 3,
      numberOfFrames: 3,
      bitsAllocated: 1,
      bitsStored: 1,
      highBit: 0,
      samplesPerPixel: 1,
      photometricInterpretation: "MONOCHROME2",
    });
    expect(file.pixelData?.length).toBe(4);
  });

  it("writes no SEG for an empty label map and says why", () => {
    expect(encodeDicomSeg(seriesSource(), new Uint16Array(18), options(), "series")).toEqual({
      written: false,
      reason: "no voxel was segmented, and a DICOM-SEG needs at least one frame",
    });
  });

  it("refuses sources without the UIDs a SEG refers to, in one line", () => {
    const refuse = (source: DicomSource) =>
      inputErrorLine(() => encodeDicomSeg(source, labels, options(), "ct/"));
    expect(refuse(seriesSource({ copied: {} }))).toBe(
      "ct/: cannot write a DICOM-SEG: the source has no StudyInstanceUID (0020,000D)",
    );
    const { seriesInstanceUID: _, ...noSeries } = seriesSource();
    expect(refuse(noSeries)).toMatch(/no SeriesInstanceUID \(0020,000E\)$/);
    const { frameOfReferenceUID: __, ...noFrame } = seriesSource();
    expect(refuse(noFrame)).toMatch(/no FrameOfReferenceUID \(0020,0052\), which a series' SEG needs/);
    const unnamed = seriesSource();
    delete unnamed.slices[1]!.sopInstanceUID;
    expect(refuse(unnamed)).toMatch(
      /no SOPClassUID \(0008,0016\) or SOPInstanceUID \(0008,0018\) in every image/,
    );
  });

  it("refuses a copied attribute that breaks its VR's rules, naming the element", () => {
    const source = seriesSource({ copied: { studyInstanceUID: "1.2", patientID: "x".repeat(80) } });
    expect(inputErrorLine(() => encodeDicomSeg(source, labels, options(), "ct/"))).toMatch(
      /^ct\/: cannot write its DICOM-SEG: DICOM encoder: element \(0010,0020\) \(LO\) value .* 80 characters/,
    );
  });

  it("refuses labels that do not fit the source (a programming error, not bad input)", () => {
    expect(() => encodeDicomSeg(seriesSource(), new Uint16Array(5), options(), "ct/")).toThrow(
      /5 labels for 3 slice\(s\) of 2×3/,
    );
  });
});

describe("buildDicomSeg on one image without a Frame of Reference", () => {
  const image: DicomSource = {
    slices: [{ sopClassUID: "1.2.840.10008.5.1.4.1.1.6.1", sopInstanceUID: "1.2.3.1" }],
    seriesInstanceUID: "1.2.3",
    copied: { studyInstanceUID: "1.2" },
    rows: 2,
    columns: 3,
  };

  it("ties frames to the image by a shared Derivation Image group; one dimension (the segment)", () => {
    const seg = built(image, Uint16Array.from([1, 0, 2, 2, 0, 0]));
    expect(seg.frames).toEqual([
      { segment: 1, slice: 0 },
      { segment: 2, slice: 0 },
    ]);
    const shared = item(seg.dataSet, TAG.SharedFunctionalGroupsSequence);
    const source = item(item(shared, TAG.DerivationImageSequence), TAG.SourceImageSequence);
    expect(value(source, TAG.ReferencedSOPInstanceUID)).toBe("1.2.3.1");
    const perFrame = items(seg.dataSet, TAG.PerFrameFunctionalGroupsSequence);
    expect(perFrame.map((f) => value(item(f, TAG.FrameContentSequence), TAG.DimensionIndexValues))).toEqual([
      [1],
      [2],
    ]);
    for (const f of perFrame) {
      expect(find(f, TAG.PlanePositionSequence)).toBeUndefined();
      expect(find(f, TAG.DerivationImageSequence)).toBeUndefined();
    }
    expect(items(seg.dataSet, TAG.DimensionIndexSequence)).toHaveLength(1);
    expect(find(seg.dataSet, TAG.FrameOfReferenceUID)).toBeUndefined();
    expect(value(seg.dataSet, TAG.PatientOrientation)).toBe("");
  });
});
