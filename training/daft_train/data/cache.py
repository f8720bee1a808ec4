"""Preprocess datasets once into a compact on-disk cache that training reads (and, on CUDA, keeps on the GPU).

Per dataset, a folder ``<cache_root>/<dataset name>-<key>/`` with
  meta.json      dataset name, modality, dimension, channels, cases [{case, modality, first_sample, samples}]
  images.npy     uint8 [S, 256, 256, C]  model inputs (preprocessed, min-max normalised x 255, zero padded);
                 one sample per 2D image or per 3D slice that contains an object; C = 1 (grey) or 3
  samples.npy    int32 [S, 8]   case, slice (-1 for 2D), resized h, resized w, original h, original w,
                                first object row, object count
  objects.npy    float32 [M, 20] sample, object index in its case, box in the 256 frame (x0, y0, x1, y1),
                                box in original pixels (x0, y0, x1, y1), long side in the 256 frame,
                                3D propagation prompt in original pixels (x0, y0, x1, y1) + widen flag, the 3D
                                box's xy extent (x0, y0, x1, y1); 2D: the box, 0, the box
  masks.npy      uint8 [M, 256, 32]  np.packbits of the object's mask at 256 (area-resized mask binarised by the
                 cache's target rule, meta.json "target_rule", absent = "any": preprocess.TARGET_RULES; padded)
  label_ids.npy  int32 [M, K]   label ids forming each object (-1 padded), to cut masks from label maps
  originals/<sample>.npz  original-resolution image + label map of samples with an object whose long side at
                 256 is < ORIGINALS_BELOW px (source of the zoomed crops for small objects)
Splits are not stored (they depend on the seed); they are computed from the case names when loading.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from .objects import object_mask
from .preprocess import INPUT_SIZE, TARGET_RULES, area_weights, box_scale, coverage_to_target, resize_normalized, resized_size, uint8_from_normalized
from .reader import DatasetError, DatasetInfo, LoadedCase, load_case, open_dataset

CACHE_VERSION = 4  # 4: objects carry the 3D propagation prompt (columns O_PX0.. in training_data)
ORIGINALS_BELOW = 64.0  # keep originals of samples with objects smaller than this (long side, 256 frame)


def mask_to_target_local(box_mask: np.ndarray, box: tuple[int, int, int, int], height: int, width: int,
                         rule: str = "any") -> np.ndarray:
    """``preprocess.mask_to_target`` of a (height, width) mask that is zero outside ``box`` (x0, y0, x1, y1),
    given only its crop ``box_mask`` = mask[y0:y1+1, x0:x1+1] (the box filter is separable and local)."""
    x0, y0, x1, y1 = box
    h, w = resized_size(height, width)
    wy = area_weights(height, h)[:, y0 : y1 + 1]
    wx = area_weights(width, w)[:, x0 : x1 + 1]
    rows = np.flatnonzero(wy.any(axis=1))
    cols = np.flatnonzero(wx.any(axis=1))
    local = wy[rows] @ box_mask.astype(np.float64) @ wx[cols].T
    out = np.zeros((INPUT_SIZE, INPUT_SIZE), dtype=bool)
    out[np.ix_(rows, cols)] = coverage_to_target(local, rule)
    return out


def save_cache_tables(
    folder: str, samples: np.ndarray, objects: np.ndarray, masks: np.ndarray, label_ids: np.ndarray, meta: dict
) -> None:
    """A cache folder's tables and meta.json (images.npy and originals/ are the caller's)."""
    for name, array in (("samples", samples), ("objects", objects), ("masks", masks), ("label_ids", label_ids)):
        np.save(os.path.join(folder, f"{name}.npy"), array)
    with open(os.path.join(folder, "meta.json"), "w") as f:
        json.dump(meta, f)


def replace_folder(tmp: str, out_dir: str) -> None:
    """Publishes a fully written temporary folder as ``out_dir`` (replacing an older one)."""
    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    os.replace(tmp, out_dir)


@contextmanager
def publishing_folder(out_dir: str):
    """A temporary folder beside ``out_dir`` to write into: published as ``out_dir`` (replacing it whole) when the
    block ends, removed when it raises — a reader never sees a half-written folder, nor a stale file of an
    older one."""
    parent = os.path.dirname(os.path.abspath(out_dir))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(os.path.normpath(out_dir))}-", dir=parent)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    replace_folder(tmp, out_dir)


@dataclass
class _Sample:
    image: np.ndarray  # uint8 [256, 256, C]
    row: list[int]
    objects: list[list[float]]
    masks: list[np.ndarray]
    label_ids: list[tuple[int, ...]]
    original: tuple[np.ndarray, np.ndarray] | None


def propagation_prompt(z: int, z0: int, z1: int, volume_xy: tuple[int, int, int, int],
                       slice_boxes: dict[int, tuple[int, int, int, int]]) -> tuple[int, int, int, int, int]:
    """The prompt the engine's 3D walk gives slice ``z`` of an object whose 3D box spans z0..z1 — had it segmented
    the neighbouring slice perfectly: the box's xy extent on the middle slice int((z1 - z0) / 2 + z0); elsewhere
    the mask box of the slice one step closer to the middle, to be widened by 3 model-frame px (flag 1), or the
    xy extent again when the object is absent there. Returns (x0, y0, x1, y1, widen) in original pixels."""
    mid = int((z1 - z0) / 2 + z0)
    if z == mid:
        return (*volume_xy, 0)
    neighbour = slice_boxes.get(z - 1 if z > mid else z + 1)
    return (*neighbour, 1) if neighbour is not None else (*volume_xy, 0)


def _plane_samples(image: np.ndarray, label: np.ndarray, objects, case_index: int, slice_index: int,
                   rule: str = "any") -> _Sample | None:
    """One 2D image (or one slice) with the given objects [(object index, label ids, box, prompt)]; prompt =
    (x0, y0, x1, y1, widen, vx0, vy0, vx1, vy1): the 3D propagation prompt and the 3D box's xy extent (2D: the
    box itself, twice, widen 0)."""
    height, width = label.shape
    norm = resize_normalized(image)
    h, w = norm.shape[:2]
    padded = np.zeros((INPUT_SIZE, INPUT_SIZE, norm.shape[2]), dtype=np.uint8)
    padded[:h, :w] = uint8_from_normalized(norm)
    scale = box_scale(height, width)
    rows, masks, ids = [], [], []
    small = False
    for object_index, label_ids, box, prompt in objects:
        x0, y0, x1, y1 = box
        m256 = mask_to_target_local(object_mask(label[y0 : y1 + 1, x0 : x1 + 1], label_ids), box, height, width, rule)
        b256 = [x0 * scale, y0 * scale, x1 * scale, y1 * scale]
        long_side = max(b256[2] - b256[0], b256[3] - b256[1]) + scale
        small = small or long_side < ORIGINALS_BELOW
        rows.append([0, object_index, *b256, x0, y0, x1, y1, long_side, *prompt])
        masks.append(np.packbits(m256, axis=1))
        ids.append(tuple(label_ids))
    if not rows:
        return None
    original = (np.ascontiguousarray(image), label.astype(np.int32)) if small else None
    row = [case_index, slice_index, h, w, height, width, 0, len(rows)]
    return _Sample(padded, row, rows, masks, ids, original)


def _case_samples(args) -> tuple[list[_Sample], str | None]:
    info, ref, case_index, rule = args
    try:
        case: LoadedCase = load_case(info, ref)
    except DatasetError as exc:
        return [], str(exc)
    samples = []
    if ref.dimension == 3:
        # every object's mask box on every slice first: a slice's propagation prompt comes from its neighbour
        slice_boxes: list[dict[int, tuple[int, int, int, int]]] = []
        for o in case.objects:
            boxes = {}
            for z in range(o.box[2], o.box[5] + 1):
                m = object_mask(case.label[z], o.label_ids)
                if m.any():
                    ys = np.flatnonzero(m.any(axis=1))
                    xs = np.flatnonzero(m.any(axis=0))
                    boxes[z] = (int(xs[0]), int(ys[0]), int(xs[-1]), int(ys[-1]))
            slice_boxes.append(boxes)
        for z in range(case.image.shape[0]):
            plane_objects = []
            for i, o in enumerate(case.objects):
                box = slice_boxes[i].get(z)
                if box is None:
                    continue
                xy = (o.box[0], o.box[1], o.box[3], o.box[4])
                prompt = propagation_prompt(z, o.box[2], o.box[5], xy, slice_boxes[i])
                plane_objects.append((i, o.label_ids, box, (*prompt, *xy)))
            s = _plane_samples(case.image[z], case.label[z], plane_objects, case_index, z, rule)
            if s is not None:
                samples.append(s)
    else:
        objs = [(i, o.label_ids, o.box, (*o.box, 0, *o.box)) for i, o in enumerate(case.objects)]
        s = _plane_samples(case.image, case.label, objs, case_index, -1, rule)
        if s is not None:
            samples.append(s)
    return samples, None


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cache_key(info: DatasetInfo, target_rule: str = "any") -> str:
    """What the cache was made from: the cache version, the dataset's path and name, and the bytes of dataset.json
    and of every case's image and label. Contents, not modification times: a copied or re-mounted dataset (new
    mtimes, same bytes) reuses its cache, and an edited label is never served from a stale one. Hashing the shared
    datasets (~160 MiB) takes about a second. A target rule other than "any" is part of the key (caches of the
    default rule keep the keys they had before rules existed)."""
    stamp: list = [CACHE_VERSION, info.root, info.name]
    if target_rule != "any":
        stamp.append(["target_rule", target_rule])
    meta_file = os.path.join(info.root, "dataset.json")
    if os.path.exists(meta_file):
        stamp.append(sha256_file(meta_file))
    for c in info.cases:
        stamp.append((c.case, sha256_file(c.image_path), sha256_file(c.label_path) if c.label_path else None))
    return hashlib.sha256(json.dumps(stamp).encode()).hexdigest()[:12]


def cache_dir_for(cache_root: str, info: DatasetInfo, target_rule: str = "any") -> str:
    return os.path.join(cache_root, f"{info.name}-{cache_key(info, target_rule)}")


def run_cache_root(run_dir: str, run_info: dict, given: str | None = None) -> str:
    """Where a run's dataset caches live: --cache-dir when given, else the one its run.json recorded (the run was
    started with --cache-dir), else its base run's cache, else RUN_DIR/cache. Training, select, export and pack all
    find the caches this way, so a run started with --cache-dir never builds a second cache for a later command."""
    if given:
        return os.path.abspath(given)
    if run_info.get("cache_dir"):
        return run_info["cache_dir"]
    base = run_info.get("base_run")
    if base and os.path.isdir(os.path.join(base, "cache")):
        return os.path.join(base, "cache")  # same datasets, same preprocessing: reuse
    return os.path.join(os.path.abspath(run_dir), "cache")


def find_cache_of(cache_root: str, dataset_root: str, target_rule: str = "any") -> str:
    """The one cache folder in ``cache_root`` made from ``dataset_root`` (its meta.json "source") with
    ``target_rule``, e.g. one that ``daft_train unpack`` wrote on a machine without the datasets."""
    source = os.path.abspath(dataset_root)
    found = []
    if os.path.isdir(cache_root):
        for name in sorted(os.listdir(cache_root)):
            meta_file = os.path.join(cache_root, name, "meta.json")
            if os.path.isfile(meta_file):
                with open(meta_file) as f:
                    meta = json.load(f)
                if meta.get("source") == source and meta.get("target_rule", "any") == target_rule:
                    found.append(os.path.join(cache_root, name))
    if not found:
        raise DatasetError(f"{dataset_root}: not a folder (and {cache_root} holds no cache made from it with target "
                           f"rule {target_rule!r})")
    if len(found) > 1:
        raise DatasetError(f"{dataset_root}: not a folder, and {cache_root} holds {len(found)} caches made from it "
                           f"({', '.join(os.path.basename(f) for f in found)}); keep one")
    return found[0]


def build_cache(dataset_root: str, cache_root: str, workers: int = 0, log=print, target_rule: str = "any") -> str:
    """Build (or reuse) the cache of one dataset with training targets cut by ``target_rule``; returns its folder.
    Cases that fail to load are skipped with a warning line; a dataset where every case fails is an error. When the
    dataset folder does not exist (a GPU machine that got the cache from ``daft_train unpack``), the cache made from
    that path is used as it is."""
    if target_rule not in TARGET_RULES:
        raise ValueError(f"unknown target rule {target_rule!r} (expected one of {', '.join(TARGET_RULES)})")
    if not os.path.exists(dataset_root):
        found = find_cache_of(cache_root, dataset_root, target_rule)
        log(f"{dataset_root}: no dataset folder here; using its cache {found}")
        return found
    info = open_dataset(dataset_root)
    out_dir = cache_dir_for(cache_root, info, target_rule)
    if os.path.exists(os.path.join(out_dir, "meta.json")):
        return out_dir
    os.makedirs(cache_root, exist_ok=True)
    started = time.time()
    workers = workers or max(1, min(8, (os.cpu_count() or 1)))
    jobs = [(info, ref, i, target_rule) for i, ref in enumerate(info.cases)]
    if workers > 1 and len(jobs) > 4:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_case_samples, jobs, chunksize=4))
    else:
        results = [_case_samples(j) for j in jobs]
    failures = [err for _, err in results if err]
    for err in failures:
        log(f"warning: skipped case: {err}")
    if len(failures) == len(jobs):
        raise DatasetError(f"{info.root}: no case could be read")
    all_samples = [s for samples, _ in results for s in samples]
    if not all_samples:
        raise DatasetError(f"{info.root}: no case has a labelled object")
    channels = 3 if any(s.image.shape[2] == 3 for s in all_samples) else 1
    with publishing_folder(out_dir) as tmp:
        images = np.lib.format.open_memmap(
            os.path.join(tmp, "images.npy"), mode="w+", dtype=np.uint8, shape=(len(all_samples), INPUT_SIZE, INPUT_SIZE, channels)
        )
        sample_rows, object_rows, masks, ids = [], [], [], []
        os.makedirs(os.path.join(tmp, "originals"))
        for si, s in enumerate(all_samples):
            images[si] = s.image if s.image.shape[2] == channels else np.repeat(s.image, channels, axis=2)
            s.row[6] = len(object_rows)
            sample_rows.append(s.row)
            for r in s.objects:
                r[0] = si
                object_rows.append(r)
            masks.extend(s.masks)
            ids.extend(s.label_ids)
            if s.original is not None:
                np.savez_compressed(os.path.join(tmp, "originals", f"{si}.npz"), image=s.original[0], label=s.original[1])
        images.flush()
        del images
        width = max(len(t) for t in ids)
        cases = []
        counts = np.bincount(np.asarray([r[0] for r in sample_rows]), minlength=len(info.cases))
        firsts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        for i, ref in enumerate(info.cases):
            cases.append({"case": ref.case, "modality": ref.modality, "dimension": ref.dimension, "first_sample": int(firsts[i]), "samples": int(counts[i])})
        meta = {
            "version": CACHE_VERSION,
            "dataset": info.name,
            "modality": info.modality,
            "dimension": info.dimension,
            "channels": channels,
            "source": info.root,
            "target_rule": target_rule,
            "cases": cases,
        }
        save_cache_tables(
            tmp,
            samples=np.asarray(sample_rows, dtype=np.int32),
            objects=np.asarray(object_rows, dtype=np.float32),
            masks=np.stack(masks).astype(np.uint8),
            label_ids=np.asarray([list(t) + [-1] * (width - len(t)) for t in ids], dtype=np.int32),
            meta=meta,
        )
    log(f"cached {info.name}: {len(info.cases) - len(failures)} cases, {len(all_samples)} samples, {len(object_rows)} objects in {time.time() - started:.0f}s -> {out_dir}")
    return out_dir
