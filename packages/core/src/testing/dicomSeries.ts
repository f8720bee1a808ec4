/**
 * A tiny DICOM CT series built with the core's Part 10 encoder, for tests of the DICOM-SEG paths (web export,
 * server): every UID a SEG refers to, optionally without its Frame of Reference.
 */
import { encodeDicomFile, type DicomElement } from "../io/dicomEncoder.js";
import type { DicomSource } from "../io/dicomSource.js";

/** A two-slice CT series of 2 rows × 3 columns with every UID a SEG refers to (tags in ascending order). */
export function syntheticCtSeries(withFrameOfReference = true): { name: string; bytes: Uint8Array }[] {
  const ui = (tag: number, value: string): DicomElement => ({ tag, vr: "UI", value });
  const ds = (tag: number, ...values: number[]): DicomElement => ({
    tag,
    vr: "DS",
    value: values.map(String),
  });
  const us = (tag: number, value: number): DicomElement => ({ tag, vr: "US", value: [value] });
  return [0, 1].map((k) => {
    const sop = `1.2.826.0.1.3680043.8.498.77.${k + 1}`;
    const dataSet: DicomElement[] = [
      ui(0x00080016, "1.2.840.10008.5.1.4.1.1.2"),
      ui(0x00080018, sop),
      { tag: 0x00080060, vr: "CS", value: "CT" },
      { tag: 0x00100010, vr: "PN", value: "Doe^Jane" },
      ui(0x0020000d, "1.2.826.0.1.3680043.8.498.77"),
      ui(0x0020000e, "1.2.826.0.1.3680043.8.498.77.0"),
      ds(0x00200032, -10, 5, 2.5 * k),
      ds(0x00200037, 1, 0, 0, 0, 1, 0),
      ...(withFrameOfReference ? [ui(0x00200052, "1.2.826.0.1.3680043.8.498.77.9")] : []),
      us(0x00280002, 1),
      { tag: 0x00280004, vr: "CS", value: "MONOCHROME2" },
      us(0x00280010, 2),
      us(0x00280011, 3),
      ds(0x00280030, 0.8, 0.7),
      us(0x00280100, 16),
      us(0x00280101, 16),
      us(0x00280102, 15),
      us(0x00280103, 0),
      {
        tag: 0x7fe00010,
        vr: "OW",
        value: new Uint8Array(Uint16Array.from({ length: 6 }, (_, i) => i * 100 + k).buffer),
      },
    ];
    const bytes = encodeDicomFile(
      {
        mediaStorageSOPClassUID: "1.2.840.10008.5.1.4.1.1.2",
        mediaStorageSOPInstanceUID: sop,
        implementationClassUID: "1.2.3.4",
      },
      dataSet,
    );
    return { name: `IM${k}`, bytes };
  });
}

/** The DicomSource of a 3-slice axial series of 2 rows × 3 columns (6 pixels per frame), 2.5 mm apart. */
export function smallSeriesSource(overrides: Partial<DicomSource> = {}): DicomSource {
  return {
    slices: [0, 1, 2].map((k) => ({
      sopClassUID: "1.2.840.10008.5.1.4.1.1.2",
      sopInstanceUID: `1.2.3.${k + 1}`,
      imagePositionPatient: [-10, 5, 2.5 * k],
    })),
    seriesInstanceUID: "1.2.3",
    copied: {
      patientName: "Doe^Jane",
      patientID: "P7",
      studyInstanceUID: "1.2",
      studyDate: "20240102",
      accessionNumber: "A1",
    },
    frameOfReferenceUID: "1.2.9",
    imageOrientationPatient: [1, 0, 0, 0, 1, 0],
    pixelSpacing: [0.8, 0.7],
    sliceSpacing: 2.5,
    rows: 2,
    columns: 3,
    ...overrides,
  };
}
