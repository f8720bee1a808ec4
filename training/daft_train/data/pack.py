"""Pack a run's training cache into a small folder that travels to a GPU machine (``daft_train pack``), and
rebuild from it a cache the loader reads unchanged (``daft_train unpack``).

Kept: the train and validation samples (of ``split_seed``'s split) of every dataset. Test-split cases never
travel (they stay in meta.json with 0 samples, so nothing can evaluate on them by mistake); at most ``val_cap``
validation samples per dataset (exactly those the loader's ``max_val_images_per_dataset`` cap picks from the
full cache); optionally every ``slice_step``-th slice of the training volumes of a 3D dataset (each object keeps
a slice) and a hash-chosen share ``train_fraction`` of the training cases of a 2D dataset; the originals
(zoom-crop sources) of kept training samples with an object whose long side at 256 is below ``zoom_below``
(training zooms on them; validation scores their small objects on zoom tiles, as the engine segments them). Kept samples are renumbered in order; objects, masks,
label ids and originals follow them; everything else in the cache is copied as is.

Images: only the resized h x w region (the padding is zero), one channel when the three are equal, repeated
rows and columns removed (upsampled 3D slices repeat most of them), then lossless WebP, or JPEG for the
datasets named lossy. Masks: lzma. The sha256 of every decoded array is recorded, and unpack checks it:
lossless datasets must come back bit-exact.

PACK/
  pack.json                    format, policy, run, datasets in run order with counts, sizes, hashes, errors
  <cache folder>/meta.json     the cache's meta.json: kept sample counts per case, plus a "packed" record
  <cache folder>/tables.npz    samples, objects, label_ids (kept rows), image and originals offsets
  <cache folder>/images.bin    encoded images, one after the other
  <cache folder>/masks.xz      lzma of the kept masks, uint8 [M, 256, 32]
  <cache folder>/originals.bin encoded original images and label maps
"""

from __future__ import annotations

import hashlib
import io
import json
import lzma
import os
import shutil
import struct
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

import numpy as np

from .cache import CACHE_VERSION, cache_dir_for, find_cache_of, publishing_folder, run_cache_root, save_cache_tables
from .preprocess import INPUT_SIZE
from .reader import DatasetError, open_dataset
from .splits import split_of, unit_hash
from .training_data import O_INDEX, O_LONG, O_SAMPLE, S_CASE, S_COUNT, S_FIRST, S_H, S_W, stable_seed

PACK_FORMAT = "daft-pack"
PACK_VERSION = 1
TREE_LIMIT_MIB = 64.0  # what travels to the device machine: tracked + untracked files + carried paths
TREE_MARGIN_MIB = 1.0
MIN_JPEG_QUALITY = 92
DEFAULT_JPEG_QUALITY = 92
# RGB photographs: lossy when the budget needs it (endoscopy, dermoscopy, fundus)
DEFAULT_LOSSY = ("kvasir-seg", "ph2-dermoscopy", "drishti-gs-optic")

CODEC_WEBP, CODEC_JPEG, CODEC_NPY = 0, 1, 2  # lossless WebP, JPEG, lzma of an .npy (any dtype / shape)
FLAG_ONE_CHANNEL, FLAG_DEDUP, FLAG_NO_CHANNEL_AXIS = 1, 2, 4
_HEADER = struct.Struct("<IIBBB")  # height, width, channels, codec, flags
WEBP_MAX_SIDE = 16383


@dataclass
class PackPolicy:
    lossy: dict[str, int] = field(default_factory=dict)  # dataset name -> JPEG quality
    slice_step: dict[str, int] = field(default_factory=dict)  # dataset name -> keep every k-th training slice
    train_fraction: dict[str, float] = field(default_factory=dict)  # dataset name -> share of 2D training cases kept
    val_cap: int = 400  # validation samples per dataset (0 = all); the gpu config's max_val_images_per_dataset
    zoom_below: float = 32.0  # the gpu config's train.zoom_small_side
    val_originals: bool = True  # originals of validation samples too (validation scores small objects on zoom tiles)
    split_seed: int = 0

    def check(self) -> None:
        for name, q in self.lossy.items():
            if not MIN_JPEG_QUALITY <= q <= 100:
                raise ValueError(f"--lossy {name}={q}: JPEG quality must be {MIN_JPEG_QUALITY}..100")
        for name, k in self.slice_step.items():
            if k < 1:
                raise ValueError(f"--slice-step {name}={k}: the step must be at least 1")
        for name, share in self.train_fraction.items():
            if not 0.0 < share <= 1.0:
                raise ValueError(f"--train-fraction {name}={share}: must be in (0, 1]")
        if self.val_cap < 0:
            raise ValueError(f"--val-cap {self.val_cap}: must be >= 0")


# ---------------------------------------------------------------------------------------------- images


def _dedup(img: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drop every row equal to the row above and every column equal to the column on its left."""
    rows = np.ones(img.shape[0], dtype=bool)
    rows[1:] = (img[1:] != img[:-1]).reshape(img.shape[0] - 1, -1).any(axis=1)
    img = img[rows]
    cols = np.ones(img.shape[1], dtype=bool)
    cols[1:] = (img[:, 1:] != img[:, :-1]).transpose(1, 0, 2).reshape(img.shape[1] - 1, -1).any(axis=1)
    return np.ascontiguousarray(img[:, cols]), rows, cols


def encode_image(image: np.ndarray, quality: int | None) -> bytes:
    """A uint8 (H, W) / (H, W, 1|3) image → header + row/column bitmaps + WebP (lossless) or JPEG (``quality``).
    Other dtypes or shapes are stored as lzma-compressed .npy (lossless)."""
    from PIL import Image

    shape_ok = image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (1, 3))
    if image.dtype != np.uint8 or not shape_ok or min(image.shape[:2]) < 1 or max(image.shape[:2]) > WEBP_MAX_SIDE:
        return _encode_npy(image)
    flags = 0
    img = image
    if img.ndim == 2:
        img = img[:, :, None]
        flags |= FLAG_NO_CHANNEL_AXIS
    height, width, channels = img.shape
    if channels == 3 and (img[..., 0] == img[..., 1]).all() and (img[..., 0] == img[..., 2]).all():
        img = img[:, :, :1]
        flags |= FLAG_ONE_CHANNEL
    small, rows, cols = _dedup(img)
    if len(small) * len(small[0]) < height * width:
        flags |= FLAG_DEDUP
        img = small
        bitmaps = np.packbits(rows).tobytes() + np.packbits(cols).tobytes()
    else:
        bitmaps = b""
    pil = Image.fromarray(img[:, :, 0] if img.shape[2] == 1 else img)
    out = io.BytesIO()
    if quality is None:
        codec = CODEC_WEBP
        pil.save(out, "WEBP", lossless=True, quality=0, method=4)  # method 4 ≈ method 6 in size, 20x faster
    else:
        codec = CODEC_JPEG
        pil.save(out, "JPEG", quality=quality, optimize=True)
    return _HEADER.pack(height, width, channels, codec, flags) + bitmaps + out.getvalue()


def _encode_npy(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(image), allow_pickle=False)
    return _HEADER.pack(0, 0, 0, CODEC_NPY, 0) + lzma.compress(buf.getvalue())


def decode_image(data: bytes) -> np.ndarray:
    from PIL import Image

    height, width, channels, codec, flags = _HEADER.unpack_from(data)
    pos = _HEADER.size
    if codec == CODEC_NPY:
        return np.load(io.BytesIO(lzma.decompress(data[pos:])), allow_pickle=False)
    rows = cols = None
    if flags & FLAG_DEDUP:
        nr, nc = (height + 7) // 8, (width + 7) // 8
        rows = np.unpackbits(np.frombuffer(data, np.uint8, nr, pos))[:height].astype(bool)
        cols = np.unpackbits(np.frombuffer(data, np.uint8, nc, pos + nr))[:width].astype(bool)
        pos += nr + nc
    with Image.open(io.BytesIO(data[pos:])) as pil:
        img = np.asarray(pil)
    img = img[:, :, None] if img.ndim == 2 else img
    if flags & FLAG_ONE_CHANNEL or channels == 1:
        img = img[:, :, :1]  # WebP stores grey as RGB
    if rows is not None:
        img = img[np.cumsum(rows) - 1][:, np.cumsum(cols) - 1]
    if flags & FLAG_ONE_CHANNEL:
        img = np.repeat(img, 3, axis=2)
    if img.shape != (height, width, channels):
        raise ValueError(f"decoded image has shape {img.shape}, expected {(height, width, channels)}")
    if flags & FLAG_NO_CHANNEL_AXIS:
        img = img[:, :, 0]
    return np.ascontiguousarray(img)


def _encode_label(label: np.ndarray) -> bytes:
    lo, hi = (int(label.min()), int(label.max())) if label.size else (0, 0)
    dtype = np.uint8 if lo >= 0 and hi < 256 else np.uint16 if lo >= 0 and hi < 65536 else np.int32
    buf = io.BytesIO()
    np.save(buf, label.astype(dtype), allow_pickle=False)
    return lzma.compress(buf.getvalue())


def _decode_label(data: bytes) -> np.ndarray:
    return np.load(io.BytesIO(lzma.decompress(data)), allow_pickle=False).astype(np.int32)


# ---------------------------------------------------------------------------------------------- selection


def _every_kth_slice(ids: np.ndarray, objects: np.ndarray, samples: np.ndarray, step: int) -> list[int]:
    """Every ``step``-th sample (slice) of a volume, plus the middle slice of any object left without one."""
    kept = set(int(s) for s in ids[::step])

    def object_ids(s: int) -> set[int]:
        first, count = samples[s, S_FIRST], samples[s, S_COUNT]
        return {int(o) for o in objects[first : first + count, O_INDEX]}

    covered = set().union(*(object_ids(s) for s in kept)) if kept else set()
    for obj in sorted(set().union(*(object_ids(int(s)) for s in ids)) - covered):
        with_obj = [int(s) for s in ids if obj in object_ids(int(s))]
        kept.add(with_obj[len(with_obj) // 2])
    return sorted(kept)


def choose_samples(meta: dict, samples: np.ndarray, objects: np.ndarray, policy: PackPolicy) -> tuple[np.ndarray, np.ndarray, dict]:
    """Sorted ids of the samples to keep, the validation ones among them, and counts per split."""
    dataset = meta["dataset"]
    train, val = [], []
    counts = {"train": 0, "val": 0, "test_dropped": 0, "val_dropped": 0, "train_slices_dropped": 0, "train_cases_dropped": 0}
    step = policy.slice_step.get(dataset, 1)
    share = policy.train_fraction.get(dataset, 1.0)
    for c in meta["cases"]:
        ids = np.arange(c["first_sample"], c["first_sample"] + c["samples"])
        split = split_of(dataset, c["case"], policy.split_seed)
        if split == "test":
            counts["test_dropped"] += len(ids)
        elif split == "val":
            val.extend(int(s) for s in ids)
        elif share < 1.0 and unit_hash(f"daft-pack/{dataset}/{c['case']}") >= share:
            counts["train_cases_dropped"] += 1
            counts["train_slices_dropped"] += len(ids)
        else:
            kept = _every_kth_slice(ids, objects, samples, step) if step > 1 and meta["dimension"] == 3 and len(ids) else ids.tolist()
            counts["train_slices_dropped"] += len(ids) - len(kept)
            train.extend(int(s) for s in kept)
    val_ids = np.asarray(val, dtype=np.int64)
    if policy.val_cap and len(val_ids) > policy.val_cap:
        # the loader's cap (SampleStore max_samples_per_dataset): the same hash order over the same sample ids
        keys = [stable_seed("val-subset", dataset, int(s)) for s in val_ids]
        val_ids = np.sort(val_ids[np.argsort(keys)[: policy.val_cap]])
        counts["val_dropped"] = len(val) - len(val_ids)
    counts["train"], counts["val"] = len(train), len(val_ids)
    return np.sort(np.concatenate([np.asarray(train, dtype=np.int64), val_ids])), val_ids, counts


# ---------------------------------------------------------------------------------------------- pack


def _sha256(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _read_json(path: str, what: str) -> dict:
    """A JSON file, or a one-line ValueError naming it and the problem."""
    try:
        with open(path) as f:
            return json.load(f)
    except OSError as exc:
        raise ValueError(f"{path}: cannot read {what}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON: {exc.msg}") from exc


def _run_cache_dirs(run_dir: str, cache_root: str | None) -> tuple[dict, list[str]]:
    """run.json and the cache folder of each of its datasets, found the way the pipeline finds them."""
    run = _read_json(os.path.join(run_dir, "run.json"), "the run")
    cache_root = run_cache_root(run_dir, run, cache_root)
    rule = run.get("config", {}).get("train", {}).get("target_rule", "any")
    dirs = []
    for d in run["datasets"]:
        found = cache_dir_for(cache_root, open_dataset(d), rule) if os.path.isdir(d) else find_cache_of(cache_root, d, rule)
        if not os.path.exists(os.path.join(found, "meta.json")):
            raise ValueError(f"{found}: no cache of {d}; run `daft_train cache --out {run_dir}` first")
        dirs.append(found)
    return run, dirs


def _pack_dataset(cache_dir: str, out_dir: str, policy: PackPolicy, workers: int, log) -> dict:
    with open(os.path.join(cache_dir, "meta.json")) as f:
        meta = json.load(f)
    if meta.get("version") != CACHE_VERSION:
        raise ValueError(f"{cache_dir}: cache version {meta.get('version')}, this package reads {CACHE_VERSION}; rebuild the cache")
    name = meta["dataset"]
    samples = np.load(os.path.join(cache_dir, "samples.npy"))
    objects = np.load(os.path.join(cache_dir, "objects.npy"))
    label_ids = np.load(os.path.join(cache_dir, "label_ids.npy"))
    images = np.load(os.path.join(cache_dir, "images.npy"), mmap_mode="r")
    masks = np.load(os.path.join(cache_dir, "masks.npy"), mmap_mode="r")
    keep, val_ids, counts = choose_samples(meta, samples, objects, policy)
    quality = policy.lossy.get(name)
    rows = np.concatenate([np.arange(samples[s, S_FIRST], samples[s, S_FIRST] + samples[s, S_COUNT]) for s in keep]) if len(keep) else np.zeros(0, np.int64)
    new_samples = samples[keep].copy()
    new_samples[:, S_FIRST] = np.concatenate([[0], np.cumsum(new_samples[:, S_COUNT])[:-1]]) if len(keep) else []
    new_objects = objects[rows].copy()
    new_objects[:, O_SAMPLE] = np.repeat(np.arange(len(keep)), new_samples[:, S_COUNT])
    new_label_ids = label_ids[rows]
    new_masks = np.ascontiguousarray(masks[rows])

    def encode_sample(i: int):
        s = int(keep[i])
        h, w = int(samples[s, S_H]), int(samples[s, S_W])
        img = np.asarray(images[s])
        if img[h:].any() or img[:, w:].any():
            raise ValueError(f"{cache_dir}/images.npy: sample {s} is not zero outside its {h}x{w} region")
        data = encode_image(np.ascontiguousarray(img[:h, :w]), quality)
        decoded = decode_image(data)
        if quality is None and not np.array_equal(decoded, img[:h, :w]):
            raise RuntimeError(f"{cache_dir}: sample {s}: lossless encoding did not round-trip")
        diff = np.abs(decoded.astype(np.int16) - img[:h, :w].astype(np.int16))
        return data, decoded, int(diff.sum()), int(diff.max()) if diff.size else 0, diff.size

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        encoded = list(pool.map(encode_sample, range(len(keep))))
    image_bytes = [e[0] for e in encoded]
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in image_bytes])]).astype(np.int64)
    channels = int(meta["channels"])
    full = np.zeros((len(keep), INPUT_SIZE, INPUT_SIZE, channels), dtype=np.uint8)
    for i, e in enumerate(encoded):
        h, w = e[1].shape[:2]
        full[i, :h, :w] = e[1]
    images_sha = _sha256(full)
    abs_sum = sum(e[2] for e in encoded)
    pixels = sum(e[4] for e in encoded)
    max_abs = max((e[3] for e in encoded), default=0)
    del full, encoded

    small = set(new_objects[new_objects[:, O_LONG] < policy.zoom_below, O_SAMPLE].astype(int).tolist())
    if not policy.val_originals:  # without them, validation scores small objects on the whole image
        small -= set(np.searchsorted(keep, val_ids).tolist())
    originals = []  # (new sample, source file)
    for new in sorted(small):
        path = os.path.join(cache_dir, "originals", f"{int(keep[new])}.npz")
        if os.path.exists(path):
            originals.append((new, path))

    def encode_original(item):
        new, path = item
        with np.load(path) as z:
            image, label = z["image"], z["label"]
        data = encode_image(image, quality)
        decoded = decode_image(data)
        if quality is None and not (decoded.dtype == image.dtype and np.array_equal(decoded, image)):
            raise RuntimeError(f"{path}: lossless encoding did not round-trip")
        return data, _encode_label(label), _sha256(decoded, label.astype(np.int32))

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        encoded_originals = list(pool.map(encode_original, originals))
    orig_table = np.zeros((len(originals), 5), dtype=np.int64)  # sample, image offset, image length, label offset, label length
    pos = 0
    for i, ((new, _), (img_b, lab_b, _)) in enumerate(zip(originals, encoded_originals)):
        orig_table[i] = [new, pos, len(img_b), pos + len(img_b), len(lab_b)]
        pos += len(img_b) + len(lab_b)
    originals_sha = hashlib.sha256("".join(e[2] for e in encoded_originals).encode()).hexdigest()

    kept_per_case = np.bincount(new_samples[:, S_CASE], minlength=len(meta["cases"])) if len(keep) else np.zeros(len(meta["cases"]), int)
    firsts = np.concatenate([[0], np.cumsum(kept_per_case)[:-1]])
    new_meta = json.loads(json.dumps(meta))
    for i, c in enumerate(new_meta["cases"]):
        c["first_sample"], c["samples"] = int(firsts[i]), int(kept_per_case[i])
    new_meta["packed"] = {
        "source_cache": os.path.basename(os.path.normpath(cache_dir)),
        "source_samples": int(len(samples)),
        "split_seed": policy.split_seed,
        "val_cap": policy.val_cap,
        "slice_step": policy.slice_step.get(name, 1),
        "train_fraction": policy.train_fraction.get(name, 1.0),
        "zoom_below": policy.zoom_below,
        "val_originals": policy.val_originals,
        "images": "lossless" if quality is None else f"jpeg q{quality}",
        "counts": counts,
    }

    os.makedirs(out_dir)
    with open(os.path.join(out_dir, "meta.json"), "w") as f:
        json.dump(new_meta, f)
    np.savez_compressed(os.path.join(out_dir, "tables.npz"), samples=new_samples, objects=new_objects, label_ids=new_label_ids,
                        image_offsets=offsets, originals=orig_table)
    with open(os.path.join(out_dir, "images.bin"), "wb") as f:
        for b in image_bytes:
            f.write(b)
    with open(os.path.join(out_dir, "masks.xz"), "wb") as f:
        f.write(lzma.compress(new_masks.tobytes()))
    with open(os.path.join(out_dir, "originals.bin"), "wb") as f:
        for img_b, lab_b, _ in encoded_originals:
            f.write(img_b)
            f.write(lab_b)
    sizes = {p: os.path.getsize(os.path.join(out_dir, p)) for p in sorted(os.listdir(out_dir))}
    entry = {
        "dataset": name,
        "folder": os.path.basename(out_dir),
        "source": meta["source"],
        "modality": meta["modality"],
        "dimension": meta["dimension"],
        "channels": channels,
        "images": "lossless" if quality is None else f"jpeg q{quality}",
        "samples": int(len(keep)),
        "objects": int(len(rows)),
        "originals": len(originals),
        "counts": counts,
        "bytes": sizes,
        "total_bytes": int(sum(sizes.values())),
        "sha256": {"images": images_sha, "masks": _sha256(new_masks), "originals": originals_sha},
        "pixel_error": {"mean_abs": abs_sum / max(pixels, 1), "max_abs": max_abs},
    }
    log(f"[pack] {name}: {counts['train']} train + {counts['val']} val samples ({counts['test_dropped']} test, "
        f"{counts['val_dropped']} val over the cap, {counts['train_slices_dropped']} training samples left out), "
        f"{len(rows)} objects, {len(originals)} originals, images {entry['images']}"
        + (f" (mean |error| {entry['pixel_error']['mean_abs']:.3f}, max {max_abs})" if quality is not None else "")
        + f": {entry['total_bytes'] / 2**20:.2f} MiB")
    return entry


BLOCK_BYTES = 4096


def on_disk(size: int) -> int:
    """``size`` rounded up to whole 4 KiB blocks: what a file occupies on disk, as ``du`` counts it."""
    return -(-size // BLOCK_BYTES) * BLOCK_BYTES


def repo_tree_bytes(repo_root: str, exclude: str | None = None) -> int:
    """Space on disk of what the device tool sends besides carried paths: tracked + untracked-not-ignored files,
    each in whole 4 KiB blocks, plus one block per folder. Session 16 (2026-11-28): a tree of 32.65 MiB by file
    sizes and a 30.2 MiB pack (62.9 MiB together) were refused as over 64 MiB; on disk they took 66.6 MiB."""
    def listed(*args: str) -> list[str]:
        out = subprocess.run(["git", "-C", repo_root, "ls-files", "-z", *args], capture_output=True, check=True).stdout
        return [p for p in out.decode().split("\0") if p]

    total = 0
    folders: set[str] = set()
    skip = os.path.abspath(exclude) + os.sep if exclude else None
    for rel in set(listed()) | set(listed("--others", "--exclude-standard")):
        path = os.path.join(repo_root, rel)
        if skip and os.path.abspath(path).startswith(skip):
            continue
        if os.path.isfile(path) and not os.path.islink(path):
            total += on_disk(os.path.getsize(path))
            parent = os.path.dirname(rel)
            while parent and parent not in folders:
                folders.add(parent)
                parent = os.path.dirname(parent)
    return total + BLOCK_BYTES * (len(folders) + 1)


def folder_disk_bytes(folder: str) -> int:
    """Space on disk of ``folder`` counted as :func:`repo_tree_bytes` counts the tree."""
    total = BLOCK_BYTES
    for root, dirs, files in os.walk(folder):
        total += BLOCK_BYTES * len(dirs) + sum(on_disk(os.path.getsize(os.path.join(root, f))) for f in files)
    return total


def pack_budget(max_mib: str, pack_dir: str, log, beside: tuple[str, ...] = ()) -> tuple[float | None, dict]:
    """The byte budget: a number of MiB, "none", or "auto" = 64 MiB − the repository tree − the folders carried
    ``beside`` the pack (e.g. continuation.py's starting checkpoints) − 1 MiB margin."""
    if max_mib == "none":
        return None, {}
    if max_mib != "auto":
        try:
            return float(max_mib) * 2**20, {}
        except ValueError as exc:
            raise ValueError(f"--max-mib must be a number of MiB, 'auto' or 'none', got {max_mib!r}") from exc
    root = None
    for where in (os.path.dirname(os.path.abspath(pack_dir)), os.getcwd()):  # the pack's checkout, else the current one
        probe = subprocess.run(["git", "-C", where, "rev-parse", "--show-toplevel"], capture_output=True, text=True)
        if probe.returncode == 0:
            root = probe.stdout.strip()
            break
    if root is None:
        raise ValueError(f"{pack_dir}: --max-mib auto needs a git checkout (of the pack or the current folder); give --max-mib N")
    tree = repo_tree_bytes(root, exclude=pack_dir)
    carried = {}
    for folder in beside:
        if not os.path.isdir(folder):
            raise ValueError(f"{folder}: --beside names a folder to carry with the pack; it does not exist")
        carried[os.path.relpath(os.path.abspath(folder), root)] = folder_disk_bytes(folder)
    budget = (TREE_LIMIT_MIB - TREE_MARGIN_MIB) * 2**20 - tree - sum(carried.values())
    log(f"[pack] tree {tree / 2**20:.2f} MiB on disk (tracked + untracked files of {root})"
        + "".join(f", {name} {size / 2**20:.2f} MiB" for name, size in carried.items())
        + f"; budget {TREE_LIMIT_MIB:.0f} − tree{' − carried' if carried else ''} − {TREE_MARGIN_MIB:.0f} margin = {budget / 2**20:.2f} MiB")
    if budget <= 0:
        raise ValueError(f"{root}: the tree{' and the folders beside' if carried else ''} alone take "
                         f"{(tree + sum(carried.values())) / 2**20:.1f} MiB; nothing fits beside them in {TREE_LIMIT_MIB:.0f} MiB")
    return budget, {"tree_bytes": tree, "repo": root, **({"beside_bytes": carried} if carried else {})}


def pack_run(run_dir: str, pack_dir: str, policy: PackPolicy, max_mib: str = "auto", cache_root: str | None = None,
             workers: int = 2, log=print, beside: tuple[str, ...] = ()) -> dict:
    """Write ``pack_dir`` (replacing an earlier pack there) from the cache of ``run_dir``; returns pack.json.
    Raises ValueError, leaving no pack, when the result is larger than the budget."""
    policy.check()
    run_dir = os.path.abspath(run_dir)
    pack_dir = os.path.abspath(pack_dir)
    started = time.time()
    run, cache_dirs = _run_cache_dirs(run_dir, cache_root)
    names = set()
    for d in cache_dirs:
        with open(os.path.join(d, "meta.json")) as f:
            names.add(json.load(f)["dataset"])
    if "*" in policy.lossy:
        policy.lossy = {n: policy.lossy["*"] for n in sorted(names)}
    policy.lossy = {n: q for n, q in policy.lossy.items() if n in names or n not in DEFAULT_LOSSY}
    unknown = sorted((set(policy.lossy) | set(policy.slice_step) | set(policy.train_fraction)) - names)
    if unknown:
        raise ValueError(f"--lossy/--slice-step name datasets this run does not have: {', '.join(unknown)} (it has {', '.join(sorted(names))})")
    budget, tree = pack_budget(max_mib, pack_dir, log, beside)
    with publishing_folder(pack_dir) as tmp:
        entries = [_pack_dataset(d, os.path.join(tmp, os.path.basename(os.path.normpath(d))), policy, workers, log) for d in cache_dirs]
        total = sum(e["total_bytes"] for e in entries)
        index = {
            "format": PACK_FORMAT,
            "version": PACK_VERSION,
            "created": time.strftime("%Y%m%d-%H%M%S"),
            "run": run_dir,
            "run_config": run.get("config_name"),
            "run_seed": run.get("seed"),
            "datasets_order": run["datasets"],
            "cache_version": CACHE_VERSION,
            "policy": asdict(policy),
            "budget_bytes": budget,
            **tree,
            "datasets": entries,
        }
        data_bytes = total
        for _ in range(4):  # total_bytes counts pack.json itself, whose length depends on that number
            total = data_bytes + len(json.dumps(index, indent=1).encode())
            if index.get("total_bytes") == total:
                break
            index["total_bytes"] = total
        with open(os.path.join(tmp, "pack.json"), "w") as f:
            json.dump(index, f, indent=1)
        disk = folder_disk_bytes(tmp)
        if budget is not None and disk > budget:
            biggest = sorted(((e["total_bytes"], e["dataset"], e["images"]) for e in entries), reverse=True)[:4]
            raise ValueError(
                f"{pack_dir}: the pack would take {disk / 2**20:.1f} MiB on disk, over the budget of {budget / 2**20:.1f} MiB; largest: "
                + ", ".join(f"{n} {b / 2**20:.1f} MiB ({kind})" for b, n, kind in biggest)
                + "; make datasets lossy (--lossy NAME=Q), keep fewer training slices (--slice-step NAME=K), "
                  "training cases (--train-fraction NAME=F) or validation samples (--val-cap N)")
    log(f"[pack] wrote {pack_dir}: {total / 2**20:.2f} MiB ({disk / 2**20:.2f} MiB on disk"
        + (f" of {budget / 2**20:.2f} MiB" if budget is not None else "") + ")" + f" in {time.time() - started:.0f}s")
    return index


# ---------------------------------------------------------------------------------------------- unpack


def read_pack_index(pack_dir: str) -> dict:
    path = os.path.join(pack_dir, "pack.json")
    index = _read_json(path, "the pack")
    if index.get("format") != PACK_FORMAT or index.get("version") != PACK_VERSION:
        raise ValueError(f"{path}: not a {PACK_FORMAT} v{PACK_VERSION} index")
    if index.get("cache_version") != CACHE_VERSION:
        raise ValueError(f"{path}: packed from cache version {index.get('cache_version')}, this package reads {CACHE_VERSION}")
    return index


def _unpack_dataset(pack_dir: str, entry: dict, cache_root: str, workers: int, log) -> str:
    from numpy.lib.format import open_memmap

    src = os.path.join(pack_dir, entry["folder"])
    out_dir = os.path.join(cache_root, entry["folder"])
    with open(os.path.join(src, "meta.json")) as f:
        meta = json.load(f)
    tables = np.load(os.path.join(src, "tables.npz"))
    samples, objects, label_ids = tables["samples"], tables["objects"], tables["label_ids"]
    offsets, orig_table = tables["image_offsets"], tables["originals"]
    with open(os.path.join(src, "images.bin"), "rb") as f:
        blob = f.read()
    with open(os.path.join(src, "masks.xz"), "rb") as f:
        masks = np.frombuffer(lzma.decompress(f.read()), dtype=np.uint8).reshape(len(objects), INPUT_SIZE, INPUT_SIZE // 8)
    with open(os.path.join(src, "originals.bin"), "rb") as f:
        orig_blob = f.read()
    lossless = entry["images"] == "lossless"
    with publishing_folder(out_dir) as tmp:
        shape = (len(samples), INPUT_SIZE, INPUT_SIZE, int(meta["channels"]))
        if len(samples):
            images = open_memmap(os.path.join(tmp, "images.npy"), mode="w+", dtype=np.uint8, shape=shape)
        else:  # every case of the dataset is a test case (a memmap cannot be empty)
            images = np.zeros(shape, dtype=np.uint8)
            np.save(os.path.join(tmp, "images.npy"), images)

        def fill(i: int) -> None:
            img = decode_image(blob[offsets[i] : offsets[i + 1]])
            images[i, : img.shape[0], : img.shape[1]] = img

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            list(pool.map(fill, range(len(samples))))
        if isinstance(images, np.memmap):
            images.flush()
        problems = []
        if _sha256(np.asarray(images)) != entry["sha256"]["images"]:
            problems.append("images")
        del images
        if _sha256(masks) != entry["sha256"]["masks"]:
            problems.append("masks")
        os.makedirs(os.path.join(tmp, "originals"))

        def write_original(row) -> str:
            new, io_, il, lo, ll = (int(v) for v in row)
            image = decode_image(orig_blob[io_ : io_ + il])
            label = _decode_label(orig_blob[lo : lo + ll])
            np.savez_compressed(os.path.join(tmp, "originals", f"{new}.npz"), image=image, label=label)
            return _sha256(image, label)

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            digests = list(pool.map(write_original, orig_table))
        if hashlib.sha256("".join(digests).encode()).hexdigest() != entry["sha256"]["originals"]:
            problems.append("originals")
        if problems and (lossless or "masks" in problems):
            raise RuntimeError(f"{src}: unpacked {', '.join(problems)} differ from what was packed (sha256)")
        if problems:
            log(f"warning: {entry['dataset']}: JPEG-decoded {', '.join(problems)} differ slightly from the packing machine's "
                f"(another libjpeg); lossy by design (packed mean |error| {entry['pixel_error']['mean_abs']:.3f})")
        save_cache_tables(tmp, samples, objects, masks, label_ids, meta)
    log(f"[unpack] {entry['dataset']}: {len(samples)} samples, {len(objects)} objects, {len(orig_table)} originals -> {out_dir}")
    return out_dir


def unpack(pack_dir: str, cache_root: str, workers: int = 4, log=print) -> dict:
    """Rebuild every packed dataset as ``cache_root/<cache folder>/`` (replacing one there) and copy pack.json
    beside them; returns the index. The caches are found by dataset path (meta.json "source") when the dataset
    folders themselves are absent (see ``cache.build_cache``)."""
    started = time.time()
    pack_dir = os.path.abspath(pack_dir)
    cache_root = os.path.abspath(cache_root)
    index = read_pack_index(pack_dir)
    os.makedirs(cache_root, exist_ok=True)
    for entry in index["datasets"]:
        _unpack_dataset(pack_dir, entry, cache_root, workers, log)
    shutil.copyfile(os.path.join(pack_dir, "pack.json"), os.path.join(cache_root, "pack.json"))
    log(f"[unpack] {len(index['datasets'])} datasets into {cache_root} in {time.time() - started:.0f}s")
    return index
