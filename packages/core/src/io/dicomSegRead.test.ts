import { describe, expect, it } from "vitest";
import { inputErrorLine } from "../testing/inputErrors.js";
import { smallSeriesSource as series, syntheticCtSeries } from "../testing/dicomSeries.js";
import { readDicom } from "./dicom.js";
import { encodeDicomFile, type DicomDataSet, type DicomElement } from "./dicomEncoder.js";
import { buildDicomSeg, encodeDicomSeg, SEGMENTATION_STORAGE } from "./dicomSeg.js";
import { readDicomSegOnto } from "./dicomSegRead.js";
import { decodeDicomStudy } from "./dicomSeries.js";
import type { DicomSource } from "./dicomSource.js";
import { TAG } from "./dicomTagNumbers.js";

// Label 1 on slices 0 and 2, label 3 on slice 1, no label 2.
const labels = Uint16Array.from([1, 1, 0, 0, 0, 0, 0, 0, 3, 3, 3, 0, 0, 0, 0, 0, 0, 1]);
const options = { expert: "CT", softwareVersion: "0.1.0" };

function segBytes(source = series(), map = labels): Uint8Array {
  const seg = encodeDicomSeg(source, map, options, "ct");
  if (!seg.written) throw new Error(seg.reason);
  return seg.bytes;
}

describe("readDicomSegOnto", () => {
  it("gives back the label map a DICOM-SEG was written from, frames placed by their source images", () => {
    const read = readDicomSegOnto(readDicom(segBytes(), "ct.seg.dcm"), series(), "ct.seg.dcm");
    expect([...read.labels]).toEqual([...labels]);
    expect(read.frames).toBe(3);
    expect(read.segments.map((s) => [s.number, s.label])).toEqual([
      [1, "box 1"],
      [2, "box 2"],
      [3, "box 3"],
    ]);
  });

  it("carries the objects' names as Segment Labels", () => {
    const seg = encodeDicomSeg(series(), labels, { ...options, names: ["liver", "spleen", "tumour"] }, "ct");
    if (!seg.written) throw new Error(seg.reason);
    const read = readDicomSegOnto(readDicom(seg.bytes, "ct.seg.dcm"), series(), "ct.seg.dcm");
    expect(read.segments.map((s) => s.label)).toEqual(["liver", "spleen", "tumour"]);
  });

  it("places frames by position along the normal when the series' instance UIDs differ (a re-export)", () => {
    const renamed = series();
    renamed.slices = renamed.slices.map((s, k) => ({ ...s, sopInstanceUID: `9.9.${k}` }));
    const read = readDicomSegOnto(readDicom(segBytes(), "ct.seg.dcm"), renamed, "ct.seg.dcm");
    expect([...read.labels]).toEqual([...labels]);
    // Positions 10 mm away from every slice: the frame lies on none.
    const moved = series();
    moved.slices = moved.slices.map((s, k) => ({
      ...s,
      sopInstanceUID: `9.9.${k}`,
      imagePositionPatient: [-10, 5, 10 + 2.5 * k],
    }));
    expect(
      inputErrorLine(() => readDicomSegOnto(readDicom(segBytes(), "ct.seg.dcm"), moved, "ct.seg.dcm")),
    ).toBe(
      "ct.seg.dcm: DICOM-SEG: frame 1 lies on no slice of this series (source image 1.2.3.1 is not in it, and " +
        "its position matches no slice)",
    );
  });

  it("reads FRACTIONAL frames (bytes, above half the maximum fractional value)", () => {
    const built = buildDicomSeg(series(), labels, options, "ct")!;
    const fractional: DicomDataSet = built.dataSet.map((e): DicomElement => {
      if (e.tag === TAG.SegmentationType) return { tag: e.tag, vr: "CS", value: "FRACTIONAL" };
      if (e.tag === TAG.BitsAllocated || e.tag === TAG.BitsStored)
        return { tag: e.tag, vr: "US", value: [8] };
      if (e.tag === TAG.HighBit) return { tag: e.tag, vr: "US", value: [7] };
      if (e.tag === TAG.PixelData) {
        // Frame by frame, 200 where the binary frame has its bit, 100 (below 255 / 2) elsewhere.
        const bits = e.value as Uint8Array;
        const bytes = new Uint8Array(built.frames.length * 6);
        for (let i = 0; i < bytes.length; i++) bytes[i] = (bits[i >> 3]! >> (i & 7)) & 1 ? 200 : 100;
        return { tag: e.tag, vr: "OB", value: bytes };
      }
      return e;
    });
    const bytes = encodeDicomFile(
      {
        mediaStorageSOPClassUID: SEGMENTATION_STORAGE,
        mediaStorageSOPInstanceUID: built.sopInstanceUID,
        implementationClassUID: "2.25.1",
      },
      fractional,
    );
    const read = readDicomSegOnto(readDicom(bytes, "f.dcm"), series(), "f.dcm");
    expect([...read.labels]).toEqual([...labels]);
  });

  it("refuses a SEG of another grid and a file that is not a SEG, in one line", () => {
    const taller = series({ rows: 4 });
    expect(inputErrorLine(() => readDicomSegOnto(readDicom(segBytes(), "a.dcm"), taller, "a.dcm"))).toBe(
      "a.dcm: DICOM-SEG: frames are 3×2 (columns × rows), the series' images 3×4; a SEG on another grid is not read",
    );
    const ct = syntheticCtSeries();
    const study = decodeDicomStudy(ct, "ct");
    expect(inputErrorLine(() => readDicomSegOnto(readDicom(ct[0]!.bytes, "IM0"), study.dicom!, "IM0"))).toBe(
      "IM0: DICOM-SEG: not a Segmentation Storage object (SOP class 1.2.840.10008.5.1.4.1.1.2)",
    );
  });

  it("reads the SEG daft writes for a real decoded series (the synthetic CT) back onto it", () => {
    const ct = syntheticCtSeries();
    const study = decodeDicomStudy(ct, "ct");
    const map = new Uint16Array(study.width * study.height * study.depth);
    map[1] = 1;
    map[map.length - 2] = 2;
    const read = readDicomSegOnto(readDicom(segBytes(study.dicom!, map), "s"), study.dicom!, "s");
    expect([...read.labels]).toEqual([...map]);
  });
});
