#!/usr/bin/python3
"""Checks a DICOM-SEG written by `daft segment --dicom-seg` independently of DAFT's own code, with pydicom and
nibabel:

    dicom_seg_check.py <file.seg.dcm> <label map .nii.gz> <source DICOM folder or file>

  - Segmentation Storage, BINARY, 1 bit; new Series/SOP Instance UIDs (2.25.…); the source's study, patient and
    study attributes, Frame of Reference;
  - segments 1..largest label of the label map;
  - every frame (unpacked by pydicom's pixel_array, which handles Bits Allocated 1) equals the label map's slice
    for its segment, the slice found through the frame's referenced SOP Instance UID (and Referenced Frame Number,
    for an enhanced multi-frame source); every (segment, slice) with
    a voxel has exactly one frame; dimension index values and plane positions match that slice;
  - the Common Instance Reference lists exactly the source images.

The source slices are sorted here along the slice normal, as DICOM defines it; the label map is read as nibabel
sees it. Prints a JSON summary and exits 0, or prints every problem on stderr and exits 1.
"""
import json
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
from pydicom.multival import MultiValue

SEG_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"
COPIED = ["PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyDate",
          "StudyTime", "StudyID", "AccessionNumber", "ReferringPhysicianName"]


def source_images(path):
    """The source slices in order: (data set, frame number or None, ImagePositionPatient or None). An enhanced
    multi-frame image contributes one slice per frame, placed by its Per-Frame Functional Groups."""
    files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file())
    images = [ds for ds in (pydicom.dcmread(p) for p in files) if "PixelData" in ds]
    if len(images) == 1 and int(images[0].get("NumberOfFrames", 1)) > 1:
        ds = images[0]
        shared = ds.SharedFunctionalGroupsSequence[0]
        iop = np.array(shared.PlaneOrientationSequence[0].ImageOrientationPatient, float)
        slices = [(ds, f + 1, np.array(item.PlanePositionSequence[0].ImagePositionPatient, float))
                  for f, item in enumerate(ds.PerFrameFunctionalGroupsSequence)]
    else:
        slices = [(ds, None, np.array(ds.ImagePositionPatient, float) if "ImagePositionPatient" in ds else None)
                  for ds in images]
        iop = np.array(images[0].ImageOrientationPatient, float) if len(images) > 1 else None
    if len(slices) > 1:
        normal = np.cross(iop[:3], iop[3:])
        slices.sort(key=lambda s: float(np.dot(s[2], normal)))
    return slices


def first_item(ds, sequence):
    return ds[sequence].value[0] if ds is not None and sequence in ds and len(ds[sequence].value) > 0 else None


def check(seg_path, labels_path, source_path):
    problems = []
    expect = lambda ok, message: ok or problems.append(message)
    seg = pydicom.dcmread(seg_path)
    images = source_images(source_path)
    labels = np.asarray(nib.load(labels_path).dataobj).transpose(2, 1, 0)  # (x, y, z) → (z, y, x)
    expect(labels.shape == (len(images), seg.Rows, seg.Columns),
           f"label map shape {labels.shape} vs {len(images)} slices of {seg.Rows}x{seg.Columns}")
    first = images[0][0]

    expect(seg.SOPClassUID == SEG_STORAGE and seg.file_meta.MediaStorageSOPClassUID == SEG_STORAGE,
           f"SOP Class {seg.SOPClassUID}")
    expect(seg.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1", "transfer syntax")
    expect(seg.file_meta.MediaStorageSOPInstanceUID == seg.SOPInstanceUID, "meta SOP Instance UID")
    expect((seg.Modality, seg.SegmentationType, seg.BitsAllocated) == ("SEG", "BINARY", 1), "SEG/BINARY/1 bit")
    for uid in (seg.SOPInstanceUID, seg.SeriesInstanceUID):
        expect(uid.startswith("2.25.") and uid not in (first.SOPInstanceUID, first.SeriesInstanceUID),
               f"UID {uid} is not a new 2.25 UID")
    for key in COPIED:
        expect(str(seg.get(key, "")) == str(first.get(key, "")),
               f"{key}: {seg.get(key)!r} vs source {first.get(key)!r}")
    if "FrameOfReferenceUID" in first:
        expect(seg.FrameOfReferenceUID == first.FrameOfReferenceUID, "Frame of Reference UID")

    segments = int(labels.max())
    numbers = [int(s.SegmentNumber) for s in seg.SegmentSequence]
    expect(numbers == list(range(1, segments + 1)), f"segment numbers {numbers}, largest label {segments}")

    referenced = seg.ReferencedSeriesSequence[0]
    expect(referenced.SeriesInstanceUID == first.SeriesInstanceUID, "referenced series")
    listed = sorted(i.ReferencedSOPInstanceUID for i in referenced.ReferencedInstanceSequence)
    expect(listed == sorted({ds.SOPInstanceUID for ds, _, _ in images}), "referenced instances")

    slice_of = {(ds.SOPInstanceUID, frame): k for k, (ds, frame, _) in enumerate(images)}
    frames = seg.pixel_array.reshape(int(seg.NumberOfFrames), seg.Rows, seg.Columns)
    shared = first_item(seg, "SharedFunctionalGroupsSequence")
    seen = set()
    for f, item in enumerate(seg.PerFrameFunctionalGroupsSequence):
        segment = int(item.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        derivation = first_item(item, "DerivationImageSequence") or first_item(shared, "DerivationImageSequence")
        source = derivation.SourceImageSequence[0]
        expect(source.PurposeOfReferenceCodeSequence[0].CodeValue == "121322", f"frame {f}: purpose")
        expect(derivation.DerivationCodeSequence[0].CodeValue == "113076", f"frame {f}: derivation code")
        frame = int(source.ReferencedFrameNumber) if "ReferencedFrameNumber" in source else None
        k = slice_of.get((source.ReferencedSOPInstanceUID, frame))
        if k is None:
            problems.append(f"frame {f}: references unknown instance {source.ReferencedSOPInstanceUID} frame {frame}")
            continue
        expect(source.ReferencedSOPClassUID == images[k][0].SOPClassUID, f"frame {f}: SOP class")
        expect((segment, k) not in seen, f"frame {f}: a second frame for segment {segment}, slice {k}")
        seen.add((segment, k))
        expect(np.array_equal(frames[f], (labels[k] == segment).astype(frames.dtype)),
               f"frame {f} (segment {segment}, slice {k}) differs from the label map")
        values = item.FrameContentSequence[0].DimensionIndexValues
        index = [int(v) for v in values] if isinstance(values, (list, MultiValue)) else [int(values)]
        if "PlanePositionSequence" in item:
            expect(index == [segment, k + 1], f"frame {f}: dimension index values {index}")
            position = np.array(item.PlanePositionSequence[0].ImagePositionPatient, float)
            expect(np.allclose(position, images[k][2], atol=1e-4),
                   f"frame {f}: plane position {position}")
        else:
            expect(index == [segment], f"frame {f}: dimension index values {index}")
    wanted = {(s, k) for k in range(labels.shape[0]) for s in np.unique(labels[k]) if s != 0}
    expect(seen == {(int(s), k) for s, k in wanted}, f"frames {sorted(seen)} vs voxels in {sorted(wanted)}")
    return problems, {
        "frames": len(frames),
        "segments": numbers,
        "algorithms": sorted({str(s.SegmentAlgorithmName) for s in seg.SegmentSequence}),
        "labels": [str(s.SegmentLabel) for s in seg.SegmentSequence],
        "frame_keys": sorted([s, k] for s, k in seen),
        "referenced": listed,
        "rows": int(seg.Rows),
        "columns": int(seg.Columns),
    }


if __name__ == "__main__":
    problems, summary = check(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
    for problem in problems:
        print(problem, file=sys.stderr)
    print(json.dumps(summary))
    sys.exit(1 if problems else 0)
