/**
 * DICOM files written by pydicom (a real, independent writer) are read by the core reader: every transfer syntax
 * we support, sequences of both length kinds, multi-frame, planar RGB, a compressed file — and their Modality
 * routes a case through the manifest's metadata table.
 * Needs /usr/bin/python3 with pydicom and numpy (Debian: python3-pydicom); skipped otherwise.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DaftInputError, decodeDicomPixels, parseManifest, readDicom, routeCase } from "@daft/core";

const PYTHON = "/usr/bin/python3";
const hasPydicom = spawnSync(PYTHON, ["-c", "import pydicom, numpy"], { stdio: "ignore" }).status === 0;

const WRITER = String.raw`
import json, sys
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.sequence import Sequence

out = sys.argv[1]
IMPLICIT, EXPLICIT, BIG, DEFLATED = "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"
JPEG = "1.2.840.10008.1.2.4.92"  # JPEG 2000 Part 2 multi-component, which the core does not decode
SOP = {"CT": "1.2.840.10008.5.1.4.1.1.2", "PT": "1.2.840.10008.5.1.4.1.1.128", "MR": "1.2.840.10008.5.1.4.1.1.4",
       "US": "1.2.840.10008.5.1.4.1.1.6.1", "MG": "1.2.840.10008.5.1.4.1.1.1.2"}
expected = {}

def make(name, ts, modality, arr, signed=False, slope=None, intercept=None, undefined_seq=False, frames=None,
         rgb_planar=None):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SOP[modality]
    meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.8.498." + str(abs(hash(name)) % 10**12)
    meta.TransferSyntaxUID = ts
    ds = FileDataset(name, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.is_little_endian = ts != BIG
    ds.is_implicit_VR = ts == IMPLICIT
    ds.SOPClassUID = SOP[modality]
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    ds.StudyInstanceUID = "1.2.826.0.1.3680043.8.498.1"
    ds.SeriesInstanceUID = "1.2.826.0.1.3680043.8.498.1.2"
    ds.InstanceNumber = 7
    ds.ImagePositionPatient = [-120.5, 33.25, 10]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 0.5, -0.5]
    ds.PixelSpacing = [0.8, 0.6]
    ds.SliceThickness = 2.5
    # A sequence whose item holds its own Modality and a nested sequence: must not leak into the top level.
    inner = Dataset()
    inner.CodeValue = "T-D0050"
    ref = Dataset()
    ref.ReferencedSOPClassUID = SOP[modality]
    ref.ReferencedSOPInstanceUID = "1.2.3"
    ref.Modality = "OT"
    ref.AnatomicRegionSequence = Sequence([inner])
    ds.ReferencedImageSequence = Sequence([ref])
    if undefined_seq:
        ds["ReferencedImageSequence"].is_undefined_length = True
        ref["AnatomicRegionSequence"].is_undefined_length = True
        ref.is_undefined_length_sequence_item = True
        inner.is_undefined_length_sequence_item = True
    rows, cols = arr.shape[-3:-1] if rgb_planar is not None else arr.shape[-2:]
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 3 if rgb_planar is not None else 1
    ds.PhotometricInterpretation = "RGB" if rgb_planar is not None else "MONOCHROME2"
    if rgb_planar is not None:
        ds.PlanarConfiguration = rgb_planar
    if frames:
        ds.NumberOfFrames = frames
    bits = arr.dtype.itemsize * 8
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits, bits, bits - 1
    ds.PixelRepresentation = 1 if signed else 0
    if slope is not None:
        ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
    ds.WindowCenter = [40, 400]
    ds.WindowWidth = [400, 1500]
    if ts == JPEG:
        ds.PixelData = encapsulate([b"\xff\xd8\xff\xe0fake-jpeg\xff\xd9"])
        ds["PixelData"].is_undefined_length = True
        ds["PixelData"].VR = "OB"
    else:
        stored = arr
        if rgb_planar == 1:
            stored = np.moveaxis(arr, -1, -3)  # (..., 3, rows, cols)
        ds.PixelData = stored.astype(arr.dtype.newbyteorder(">" if ts == BIG else "<")).tobytes()
        ds["PixelData"].VR = "OB" if bits == 8 else "OW"
    ds.save_as(f"{out}/{name}", write_like_original=False)
    back = pydicom.dcmread(f"{out}/{name}")
    assert back.Modality == modality
    values = arr.astype(np.float64) * (slope or 1) + (intercept or 0)
    expected[name] = {"modality": modality, "transferSyntax": ts, "rows": int(rows), "columns": int(cols),
                      "frames": frames or 1, "values": values.ravel().tolist()}

rng = np.random.default_rng(0)
make("ct_implicit.dcm", IMPLICIT, "CT", rng.integers(-2000, 3000, (5, 4)).astype(np.int16), signed=True,
     slope=1, intercept=-1024)
make("pt_explicit_multiframe.dcm", EXPLICIT, "PT", rng.integers(0, 65535, (2, 3, 4)).astype(np.uint16),
     slope=0.25, intercept=0, undefined_seq=True, frames=2)
make("mr_bigendian.dcm", BIG, "MR", rng.integers(-500, 500, (3, 6)).astype(np.int16), signed=True,
     undefined_seq=True)
make("mg_deflated.dcm", DEFLATED, "MG", rng.integers(0, 4095, (4, 4)).astype(np.uint16))
make("us_rgb_planar.dcm", EXPLICIT, "US", rng.integers(0, 255, (3, 2, 3)).astype(np.uint8), rgb_planar=1)
make("ct_j2k.dcm", JPEG, "CT", np.zeros((8, 8), np.uint8))
json.dump(expected, open(f"{out}/expected.json", "w"))
`;

interface Expected {
  modality: string;
  transferSyntax: string;
  rows: number;
  columns: number;
  frames: number;
  values: number[];
}

describe.skipIf(!hasPydicom)("DICOM files written by pydicom", () => {
  let dir = "";
  let expected: Record<string, Expected> = {};
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "daft-dicom-"));
    const run = spawnSync(PYTHON, ["-c", WRITER, dir], { encoding: "utf8" });
    if (run.status !== 0) throw new Error(`pydicom writer failed: ${run.stderr}`);
    expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8")) as Record<string, Expected>;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const read = (name: string) => readDicom(new Uint8Array(readFileSync(join(dir, name))), name);

  for (const name of [
    "ct_implicit.dcm",
    "pt_explicit_multiframe.dcm",
    "mr_bigendian.dcm",
    "mg_deflated.dcm",
    "us_rgb_planar.dcm",
  ]) {
    it(`reads tags and pixels of ${name}`, () => {
      const want = expected[name]!;
      const file = read(name);
      expect(file.transferSyntax.uid).toBe(want.transferSyntax);
      expect(file.tags).toMatchObject({
        modality: want.modality,
        studyInstanceUID: "1.2.826.0.1.3680043.8.498.1",
        seriesInstanceUID: "1.2.826.0.1.3680043.8.498.1.2",
        instanceNumber: 7,
        imagePositionPatient: [-120.5, 33.25, 10],
        imageOrientationPatient: [1, 0, 0, 0, 0.5, -0.5],
        pixelSpacing: [0.8, 0.6],
        sliceThickness: 2.5,
        rows: want.rows,
        columns: want.columns,
        windowCenter: [40, 400],
        windowWidth: [400, 1500],
      });
      const pixels = decodeDicomPixels(file, name);
      expect(pixels.frames).toBe(want.frames);
      expect([...pixels.values]).toEqual(want.values);
    });
  }

  it("reads the tags of a JPEG 2000 Part 2 file and refuses its pixel data in one line naming the transfer syntax", () => {
    const file = read("ct_j2k.dcm");
    expect(file.tags.modality).toBe("CT");
    expect(file.pixelData?.encapsulated).toBe(true);
    let error: unknown;
    try {
      decodeDicomPixels(file, "ct_j2k.dcm");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DaftInputError);
    expect((error as DaftInputError).oneLine()).toBe(
      "ct_j2k.dcm: pixel data not supported: transfer syntax JPEG 2000 Part 2 Multi-component (Lossless Only) " +
        "(1.2.840.10008.1.2.4.92) is compressed; uncompressed pixel data, RLE Lossless, JPEG Lossless " +
        "(Process 14), JPEG Lossless SV1, JPEG Baseline (8-bit), JPEG Extended (8/12-bit), JPEG-LS, " +
        "JPEG-LS near-lossless, JPEG 2000 (Lossless Only), JPEG 2000, HTJ2K (Lossless Only), " +
        "HTJ2K with RPCL Options (Lossless Only), HTJ2K can be read",
    );
  });

  it("routes by the DICOM Modality through the manifest's metadata table", () => {
    const manifest = parseManifest(
      JSON.parse(readFileSync(new URL("../../../../fixtures/manifest/valid.json", import.meta.url), "utf8")),
    );
    const route = (name: string) =>
      routeCase(manifest, { fileName: name, metadataModality: read(name).tags.modality });
    // PT → PET (mapped), served by the CT_MR_PET expert; the file name alone would not route it.
    expect(route("pt_explicit_multiframe.dcm")).toMatchObject({
      expert: "CT_MR_PET",
      modality: "PET",
      rule: "metadata",
    });
    expect(route("mr_bigendian.dcm")).toMatchObject({
      expert: "CT_MR_PET",
      modality: "MR",
      rule: "metadata",
    });
    // MG → Mammography, which no specialist serves: the general expert, still by metadata.
    expect(route("mg_deflated.dcm")).toMatchObject({
      expert: "general",
      modality: "Mammography",
      rule: "metadata",
    });
  });
});
