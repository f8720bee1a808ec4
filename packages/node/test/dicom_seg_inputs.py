#!/usr/bin/python3
"""Writes the DICOM inputs of the DICOM-SEG end-to-end test (dicomSeg.e2e.test.ts) into argv[1], with pydicom:

  series/     a CT series of 4 oblique slices, 29 rows x 37 columns (1073 pixels: a SEG frame ends inside a
              byte), files named out of slice order, Implicit and Explicit VR, a Latin-1 patient name
              (Specific Character Set ISO_IR 100) and every Patient / General Study attribute a SEG copies;
              air (-1000 HU) in the top-left corner, soft tissue elsewhere;
  ct_slice.dcm  one CT image of its own series, with a Frame of Reference (a positioned 2D SEG);
  us.dcm      one RGB ultrasound image without Frame of Reference or position (a SEG tied to the image only).

Run with /usr/bin/python3 (pydicom, numpy). Deterministic.
"""
import sys
from pathlib import Path

import numpy as np
from pydicom.dataset import FileDataset, FileMetaDataset

EXPLICIT, IMPLICIT = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2"
CT, US = "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.6.1"
ROOT = "1.2.826.0.1.3680043.8.498.4242"
ROWS, COLUMNS = 29, 37


def write(path, ts, sop_class, sop_instance, series, pixels, **tags):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_instance
    meta.TransferSyntaxUID = ts
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.is_little_endian = True
    ds.is_implicit_VR = ts == IMPLICIT
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, sop_instance
    ds.PatientName = "Müller^Jürgen"
    ds.PatientID = "DAFT-0042"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "M"
    ds.StudyInstanceUID = f"{ROOT}.1"
    ds.StudyDate, ds.StudyTime = "20240229", "101500"
    ds.StudyID = "S42"
    ds.AccessionNumber = "ACC42"
    ds.ReferringPhysicianName = "House^Gregory"
    ds.SeriesInstanceUID = series
    for key, value in tags.items():
        setattr(ds, key, value)
    ds.Rows, ds.Columns = pixels.shape[:2]
    ds.SamplesPerPixel = 1 if pixels.ndim == 2 else 3
    ds.PhotometricInterpretation = "MONOCHROME2" if pixels.ndim == 2 else "RGB"
    if pixels.ndim == 3:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated = ds.BitsStored = pixels.dtype.itemsize * 8
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if pixels.dtype.kind == "i" else 0
    ds.PixelData = pixels.tobytes()
    ds.save_as(path, write_like_original=False)


def main(out):
    out.mkdir(parents=True, exist_ok=True)
    (out / "series").mkdir(exist_ok=True)
    t = np.deg2rad(10)
    row, col = np.array([1.0, 0.0, 0.0]), np.array([0.0, np.cos(t), -np.sin(t)])
    normal = np.cross(row, col)
    origin = np.array([-60.0, -40.0, 12.5])
    hu = np.full((ROWS, COLUMNS), 40, np.int16)
    hu[:6, :8] = -1000
    for k, name in enumerate(["IM_c", "IM_a.dcm", "IM_d", "IM_b.dcm"]):
        write(out / "series" / name, [IMPLICIT, EXPLICIT][k % 2], CT, f"{ROOT}.2.{k + 1}", f"{ROOT}.2",
              (hu + 1024).astype(np.uint16), Modality="CT", FrameOfReferenceUID=f"{ROOT}.9",
              ImagePositionPatient=[float(v) for v in np.round(origin + normal * 3.0 * k, 6)],
              ImageOrientationPatient=[float(v) for v in np.round([*row, *col], 8)], PixelSpacing=[0.8, 0.7],
              SliceThickness=3.0, InstanceNumber=k + 1, SeriesNumber=3, RescaleSlope=1.0,
              RescaleIntercept=-1024.0)
    write(out / "ct_slice.dcm", EXPLICIT, CT, f"{ROOT}.3.1", f"{ROOT}.3", (hu + 1024).astype(np.uint16),
          Modality="CT", FrameOfReferenceUID=f"{ROOT}.9", ImagePositionPatient=[-60.0, -40.0, 30.0],
          ImageOrientationPatient=[1, 0, 0, 0, 1, 0], PixelSpacing=[0.8, 0.7], SliceThickness=2.0,
          RescaleSlope=1.0, RescaleIntercept=-1024.0)
    rgb = np.zeros((9, 15, 3), np.uint8)
    rgb[..., 0] = np.arange(15)[None, :] * 16
    write(out / "us.dcm", EXPLICIT, US, f"{ROOT}.4.1", f"{ROOT}.4", rgb, Modality="US")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
