"""Readers for nnU-Net / MSD-layout datasets (dataset.json + images/ + labels/) and challenge .npz cases.

A dataset folder holds either a dataset.json (2D PNG/JPEG/TIFF/BMP, 3D NIfTI) or challenge ``*.npz`` files
(``imgs``, ``gts`` with label i+1 = object i, optional ``boxes``, ``spacing``). Every problem with an input
raises :class:`DatasetError` with one line naming the file.

Arrays: 2D images (H, W) or (H, W, 3) in their own dtype (RGBA → RGB, palette → RGB, grey+alpha → grey);
3D volumes (D, H, W) = nibabel (x, y, z) transposed, converted to uint8 with ``volume_to_uint8``
(challenge volumes that are already uint8 are kept); spacing in (z, y, x) order.
"""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass, field

import numpy as np

from ..export.manifest import modality_from_filename
from .objects import CaseObject, extract_objects
from .preprocess import volume_to_uint8
from .splits import split_of

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")


class DatasetError(ValueError):
    """A dataset file is missing or malformed; the message is one line ``<file>: <problem>``."""


@dataclass(frozen=True)
class CaseRef:
    """Where a case lives; no pixel data."""

    dataset: str
    case: str
    modality: str
    dimension: int
    image_path: str
    label_path: str | None
    split: str
    kind: str = "nnunet"  # "nnunet" or "npz"


@dataclass
class LoadedCase:
    ref: CaseRef
    image: np.ndarray  # 2D: (H, W) or (H, W, 3); 3D: uint8 (D, H, W)
    label: np.ndarray  # int64 (H, W) or (D, H, W)
    objects: list[CaseObject]
    spacing: tuple[float, float, float] | None = None  # (z, y, x), 3D only


@dataclass
class DatasetInfo:
    root: str
    name: str
    modality: str
    dimension: int
    labels: dict
    instance_labels: bool
    cases: list[CaseRef] = field(default_factory=list)
    kind: str = "nnunet"


def file_stem(path: str) -> str:
    base = os.path.basename(path)
    for ext in (".nii.gz", ".npz", ".nii") + IMAGE_EXTENSIONS:
        if base.lower().endswith(ext):
            return base[: -len(ext)]
    return os.path.splitext(base)[0]


def _read_json(path: str) -> dict:
    try:
        with open(path, "r", encoding="utf-8") as f:
            doc = json.load(f)
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}") from exc
    if not isinstance(doc, dict):
        raise DatasetError(f"{path}: expected a JSON object")
    return doc


def _case_pairs(root: str, doc: dict, json_path: str) -> list[tuple[str, str]]:
    entries = doc.get("cases") or doc.get("training")
    if entries:
        pairs = []
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or "image" not in entry or "label" not in entry:
                raise DatasetError(f"{json_path}: cases[{i}] must have 'image' and 'label'")
            pairs.append((os.path.normpath(os.path.join(root, entry["image"])), os.path.normpath(os.path.join(root, entry["label"]))))
        return pairs
    for images_dir, labels_dir in (("images", "labels"), ("imagesTr", "labelsTr")):
        if os.path.isdir(os.path.join(root, images_dir)):
            pairs = []
            for image in sorted(os.listdir(os.path.join(root, images_dir))):
                stem = file_stem(image)
                label_stem = stem[:-5] if stem.endswith("_0000") else stem
                matches = glob.glob(os.path.join(root, labels_dir, glob.escape(label_stem) + ".*"))
                if not matches:
                    raise DatasetError(f"{os.path.join(root, images_dir, image)}: no label file {labels_dir}/{label_stem}.*")
                pairs.append((os.path.join(root, images_dir, image), sorted(matches)[0]))
            return pairs
    raise DatasetError(f"{json_path}: no 'cases' list and no images/ folder")


def open_dataset(root: str, seed: int = 0) -> DatasetInfo:
    """Read a dataset folder's description and list its cases with their splits (no pixel data yet)."""
    root = os.path.abspath(root)
    if not os.path.isdir(root):
        raise DatasetError(f"{root}: not a folder")
    json_path = os.path.join(root, "dataset.json")
    if not os.path.exists(json_path):
        npz_files = sorted(glob.glob(os.path.join(root, "*.npz")))
        if not npz_files:
            raise DatasetError(f"{root}: no dataset.json and no challenge .npz files")
        return _open_npz_dataset(root, npz_files, seed)
    doc = _read_json(json_path)
    for key in ("name", "labels"):
        if key not in doc:
            raise DatasetError(f"{json_path}: missing '{key}'")
    name = str(doc["name"])
    labels = doc["labels"]
    if not isinstance(labels, dict):
        raise DatasetError(f"{json_path}: 'labels' must be an object")
    pairs = _case_pairs(root, doc, json_path)
    dims = {3 if p[0].lower().endswith((".nii", ".nii.gz")) else 2 for p in pairs}
    dimension = int(doc.get("dimension", dims.pop() if len(dims) == 1 else 2))
    modality = str(doc.get("modality", "unknown"))
    info = DatasetInfo(root, name, modality, dimension, labels, bool(doc.get("instance_labels", False)))
    for image_path, label_path in pairs:
        case = file_stem(image_path)
        info.cases.append(CaseRef(name, case, modality, dimension, image_path, label_path, split_of(name, case, seed)))
    return info


def _open_npz_dataset(root: str, files: list[str], seed: int) -> DatasetInfo:
    name = os.path.basename(root.rstrip("/"))
    info = DatasetInfo(root, name, "mixed", 0, {"background": 0}, False, kind="npz")
    dims = set()
    for path in files:
        case = file_stem(path)
        modality = modality_from_filename(os.path.basename(path)) or "unknown"
        base = os.path.basename(path).upper()
        if base.startswith("3D"):
            dimension = 3
        elif base.startswith("2D"):
            dimension = 2
        else:  # no 2DBox_/3DBox_ prefix: (D, H, W) with D not a channel count means 3D
            shape = npz_array_shape(path, "imgs")
            dimension = 3 if len(shape) == 3 and shape[2] not in (1, 3, 4) else 2
        dims.add(dimension)
        info.cases.append(CaseRef(name, case, modality, dimension, path, None, split_of(name, case, seed), kind="npz"))
    mods = {c.modality for c in info.cases}
    info.modality = mods.pop() if len(mods) == 1 else "mixed"
    info.dimension = dims.pop() if len(dims) == 1 else 0
    return info


def npz_array_shape(path: str, key: str) -> tuple[int, ...]:
    """Shape of one array of an .npz without reading its data."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf, zf.open(f"{key}.npy") as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, _, _ = np.lib.format.read_array_header_1_0(f)
            else:
                shape, _, _ = np.lib.format.read_array_header_2_0(f)
    except KeyError as exc:
        raise DatasetError(f"{path}: no '{key}' array") from exc
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        raise DatasetError(f"{path}: cannot read npz: {exc}") from exc
    return tuple(int(v) for v in shape)


# ----------------------------------------------------------------------------------------------- pixels


def read_image_2d(path: str) -> np.ndarray:
    """(H, W) or (H, W, 3) array of a raster image file in its own dtype."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            mode = img.mode
            if mode in ("RGBA", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV", "RGBX"):
                img = img.convert("RGB")
            elif mode in ("LA", "La", "1"):
                img = img.convert("L")
            arr = np.array(img)
    except FileNotFoundError as exc:
        raise DatasetError(f"{path}: file not found") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DatasetError(f"{path}: cannot decode image: {exc}") from exc
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[:, :, :3]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] != 3) or arr.size == 0:
        raise DatasetError(f"{path}: unsupported image shape {arr.shape}")
    return arr


def read_label_2d(path: str) -> np.ndarray:
    arr = read_image_2d(path)
    if arr.ndim != 2:
        raise DatasetError(f"{path}: a label map must be single-channel, got shape {arr.shape}")
    return arr.astype(np.int64)


def read_nifti(path: str, is_label: bool) -> tuple[np.ndarray, tuple[float, float, float]]:
    """(D, H, W) array (nibabel (x, y, z) transposed) and spacing (z, y, x)."""
    import nibabel as nib

    try:
        img = nib.load(path)
        data = np.asanyarray(img.dataobj) if is_label else img.get_fdata(dtype=np.float32)
        zooms = img.header.get_zooms()
    except FileNotFoundError as exc:
        raise DatasetError(f"{path}: file not found") from exc
    except Exception as exc:  # nibabel raises many types for corrupt files
        raise DatasetError(f"{path}: cannot read NIfTI: {exc}") from exc
    if data.ndim == 4:  # multi-channel MSD volumes: first channel
        data = data[..., 0]
    if data.ndim == 2:
        data = data[:, :, None]
    if data.ndim != 3:
        raise DatasetError(f"{path}: expected a 3D volume, got shape {data.shape}")
    spacing = tuple(float(z) for z in (list(zooms[:3]) + [1.0, 1.0, 1.0])[:3])
    volume = np.ascontiguousarray(np.transpose(data, (2, 1, 0)))
    if is_label:
        if not np.issubdtype(volume.dtype, np.integer):
            volume = np.rint(volume)
        volume = volume.astype(np.int64)
    return volume, (spacing[2], spacing[1], spacing[0])


def load_case(info: DatasetInfo, ref: CaseRef) -> LoadedCase:
    """Pixels, label map and objects of one case."""
    if ref.kind == "npz":
        return _load_npz_case(ref)
    spacing = None
    if ref.dimension == 3:
        raw, spacing = read_nifti(ref.image_path, is_label=False)
        label, _ = read_nifti(ref.label_path, is_label=True)
        image = volume_to_uint8(raw)
    else:
        image = read_image_2d(ref.image_path)
        label = read_label_2d(ref.label_path)
    if label.shape != image.shape[: label.ndim]:
        raise DatasetError(f"{ref.label_path}: label shape {label.shape} differs from image shape {image.shape}")
    try:
        objects = extract_objects(label, info.labels, info.instance_labels, ref.label_path)
    except ValueError as exc:
        raise DatasetError(str(exc)) from exc
    return LoadedCase(ref, image, label, objects, spacing)


def _load_npz_case(ref: CaseRef) -> LoadedCase:
    try:
        with np.load(ref.image_path, allow_pickle=False) as z:
            if "imgs" not in z.files or "gts" not in z.files:
                raise DatasetError(f"{ref.image_path}: challenge npz needs 'imgs' and 'gts' arrays, has {z.files}")
            imgs = z["imgs"]
            gts = z["gts"].astype(np.int64)
            spacing = tuple(float(s) for s in z["spacing"]) if "spacing" in z.files else None
    except DatasetError:
        raise
    except Exception as exc:
        raise DatasetError(f"{ref.image_path}: cannot read npz: {exc}") from exc
    if ref.dimension == 3:
        if imgs.ndim != 3:
            raise DatasetError(f"{ref.image_path}: 3D imgs must be (D, H, W), got {imgs.shape}")
        image = imgs if imgs.dtype == np.uint8 else volume_to_uint8(imgs)
    else:
        if imgs.ndim == 3 and imgs.shape[2] == 4:
            imgs = imgs[:, :, :3]
        if not (imgs.ndim == 2 or (imgs.ndim == 3 and imgs.shape[2] in (1, 3))):
            raise DatasetError(f"{ref.image_path}: 2D imgs must be (H, W) or (H, W, 3), got {imgs.shape}")
        image = imgs[:, :, 0] if imgs.ndim == 3 and imgs.shape[2] == 1 else imgs
    if gts.shape != image.shape[: gts.ndim] or gts.ndim != (3 if ref.dimension == 3 else 2):
        raise DatasetError(f"{ref.image_path}: gts shape {gts.shape} does not match imgs shape {imgs.shape}")
    # label i + 1 = object i: every id is its own object
    objects = extract_objects(gts, {"background": 0, "object": "ids"}, True, ref.image_path)
    if spacing is not None and len(spacing) == 3:
        spacing = (spacing[0], spacing[1], spacing[2])
    else:
        spacing = None
    return LoadedCase(ref, image, gts, objects, spacing)
