"""Cached samples of one split (and subset) held as tensors on the training device, epoch plans and batches
with on-device augmentation: box jitter, flips inside the unpadded region, zoomed crops for small objects.
Random decisions come from a CPU ``torch.Generator`` (seeded per epoch) so that a CUDA batch never waits on
the device; the pixel work happens on the device."""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from .augment import (augment_pixels, draw_flips, draw_intensity, flip_boxes, jitter_boxes, random_flips,
                      random_intensity, to_device)
from .preprocess import HALF_COVERAGE, INPUT_SIZE, NORMALIZE_EPS, area_weights
from .splits import split_of

__all__ = ["SampleStore", "jitter_boxes", "random_flips", "random_intensity", "propagation_boxes", "unpack_masks"]

# objects.npy columns
O_SAMPLE, O_INDEX, O_X0, O_Y0, O_X1, O_Y1, O_OX0, O_OY0, O_OX1, O_OY1, O_LONG = range(11)
# the engine's 3D propagation prompt of the slice (original px; cache.propagation_prompt), whether it is widened by
# PROPAGATION_MARGIN model-frame px, and the object's 3D box xy extent the engine clamps it to (2D: the box)
O_PX0, O_PY0, O_PX1, O_PY1, O_PWIDEN, O_VX0, O_VY0, O_VX1, O_VY1 = range(11, 20)
OBJECT_COLUMNS = 20
# model-frame px the engine adds around the previous slice's mask box (packages/core/src/pipeline/segmentVolume.ts)
PROPAGATION_MARGIN = 3
# samples.npy columns
S_CASE, S_SLICE, S_H, S_W, S_OH, S_OW, S_FIRST, S_COUNT = range(8)


def stable_seed(*parts) -> int:
    return int(hashlib.sha256(json.dumps([str(p) for p in parts]).encode()).hexdigest()[:15], 16)


@dataclass
class DatasetArrays:
    name: str
    modality: str
    cache_dir: str
    images: torch.Tensor  # uint8 [S, 256, 256, C]
    masks: torch.Tensor  # uint8 [M, 256, 32] packed
    objects: np.ndarray  # float32 [M, OBJECT_COLUMNS] (host)
    samples: np.ndarray  # int32 [S, 8] (host)
    label_ids: np.ndarray  # int32 [M, K]
    cases: list[dict]
    target_rule: str = "any"  # how the cache cut its masks (preprocess.TARGET_RULES); zoomed crops cut theirs alike


def coverage_to_target_tensor(coverage: torch.Tensor, rule: str) -> torch.Tensor:
    """``preprocess.coverage_to_target`` on a tensor (the zoomed crops' targets)."""
    if rule == "any":
        return coverage > 0
    out = coverage >= HALF_COVERAGE
    if not bool(out.any()) and coverage.numel() and float(coverage.max()) > 0:
        out = coverage >= coverage.max() - 1e-9
    return out


@dataclass
class Entry:
    """One image (sample) of a batch with the object rows to decode on it (first = primary object)."""

    dataset: int
    sample: int
    rows: list[int]


@dataclass
class Tile:
    """A square crop of a sample's original image on which small objects are validated, as the engine zooms."""

    dataset: int
    sample: int
    x0: int
    y0: int
    side: int
    rows: list[int]


@dataclass
class Batch:
    images: torch.Tensor  # float32 [B, 3, 256, 256]
    boxes: torch.Tensor  # float32 [B, K, 4]
    masks: torch.Tensor  # bool [B, K, 256, 256]
    valid: torch.Tensor  # bool [B, K]
    datasets: list[int]


class SampleStore:
    """The cached samples of ``split`` whose (dataset, modality, case) pass ``include``, on ``device``."""

    def __init__(
        self,
        cache_dirs: list[str],
        split: str,
        seed: int,
        device: torch.device,
        include: Callable[[str, str, str], bool] | None = None,
        max_samples_per_dataset: int = 0,
    ):
        self.device = device
        self.split = split
        self.datasets: list[DatasetArrays] = []
        self.entries_2d: list[tuple[int, int]] = []  # (dataset, sample)
        self.volumes: list[tuple[int, list[int]]] = []  # (dataset, samples of one 3D case)
        self._originals: dict[tuple[int, int], tuple[torch.Tensor, torch.Tensor]] = {}
        for cache_dir in cache_dirs:
            with open(os.path.join(cache_dir, "meta.json")) as f:
                meta = json.load(f)
            chosen_cases = [
                c for c in meta["cases"]
                if c["samples"] > 0
                and split_of(meta["dataset"], c["case"], seed) == split
                and (include is None or include(meta["dataset"], c["modality"], c["case"]))
            ]
            if not chosen_cases:
                continue
            samples = np.load(os.path.join(cache_dir, "samples.npy"))
            sample_ids = np.concatenate([np.arange(c["first_sample"], c["first_sample"] + c["samples"]) for c in chosen_cases])
            if max_samples_per_dataset and len(sample_ids) > max_samples_per_dataset:
                keys = [stable_seed("val-subset", meta["dataset"], int(s)) for s in sample_ids]
                sample_ids = np.sort(sample_ids[np.argsort(keys)[:max_samples_per_dataset]])
            objects = np.load(os.path.join(cache_dir, "objects.npy"))
            if objects.ndim != 2 or objects.shape[1] != OBJECT_COLUMNS:
                raise ValueError(f"{cache_dir}: cache of an older version (objects have {objects.shape[-1]} columns, not "
                                 f"{OBJECT_COLUMNS}); delete it (and re-pack) so that it is rebuilt")
            images_np = np.load(os.path.join(cache_dir, "images.npy"), mmap_mode="r")
            masks_np = np.load(os.path.join(cache_dir, "masks.npy"), mmap_mode="r")
            # keep only the chosen samples (and their objects), renumbered
            rows = np.concatenate([np.arange(samples[s, S_FIRST], samples[s, S_FIRST] + samples[s, S_COUNT]) for s in sample_ids])
            sub_samples = samples[sample_ids].copy()
            sub_samples[:, S_FIRST] = np.concatenate([[0], np.cumsum(sub_samples[:, S_COUNT])[:-1]])
            sub_objects = objects[rows].copy()
            sub_objects[:, O_SAMPLE] = np.repeat(np.arange(len(sample_ids)), sub_samples[:, S_COUNT])
            d = len(self.datasets)
            arrays = DatasetArrays(
                name=meta["dataset"],
                modality=meta["modality"],
                cache_dir=cache_dir,
                images=torch.from_numpy(np.ascontiguousarray(images_np[sample_ids])).to(device),
                masks=torch.from_numpy(np.ascontiguousarray(masks_np[rows])).to(device),
                objects=sub_objects,
                samples=sub_samples,
                label_ids=np.load(os.path.join(cache_dir, "label_ids.npy"))[rows],
                cases=meta["cases"],
                target_rule=meta.get("target_rule", "any"),
            )
            arrays.source_sample_ids = sample_ids  # type: ignore[attr-defined]
            self.datasets.append(arrays)
            by_case: dict[int, list[int]] = {}
            for local, s in enumerate(sub_samples):
                if s[S_SLICE] < 0:
                    self.entries_2d.append((d, local))
                else:
                    by_case.setdefault(int(s[S_CASE]), []).append(local)
            self.volumes.extend((d, v) for v in by_case.values())

    @property
    def num_samples(self) -> int:
        return sum(len(d.samples) for d in self.datasets)

    @property
    def num_objects(self) -> int:
        return sum(len(d.objects) for d in self.datasets)

    @property
    def only_3d(self) -> bool:
        return not self.entries_2d and bool(self.volumes)

    def __len__(self) -> int:
        return self.num_samples

    # ------------------------------------------------------------------ plans

    def epoch_plan(self, rng: np.random.Generator, objects_per_image: int, all_slices: bool) -> list[Entry]:
        """Training entries of one epoch, shuffled: every 2D image once; per 3D volume one random slice containing
        a random object (or, with ``all_slices``, every slice that contains objects)."""
        entries: list[Entry] = []
        for d, s in self.entries_2d:
            entries.append(self._entry(rng, d, s, None, objects_per_image))
        for d, samples in self.volumes:
            if all_slices:
                entries.extend(self._entry(rng, d, s, None, objects_per_image) for s in samples)
                continue
            arr = self.datasets[d]
            obj_ids = sorted({int(arr.objects[r, O_INDEX]) for s in samples for r in self._rows(d, s)})
            target = obj_ids[rng.integers(len(obj_ids))]
            with_target = [s for s in samples if any(int(arr.objects[r, O_INDEX]) == target for r in self._rows(d, s))]
            s = with_target[rng.integers(len(with_target))]
            primary = next(r for r in self._rows(d, s) if int(arr.objects[r, O_INDEX]) == target)
            entries.append(self._entry(rng, d, s, primary, objects_per_image))
        order = rng.permutation(len(entries))
        return [entries[i] for i in order]

    def eval_plan(self, max_objects: int) -> list[Entry]:
        """Every sample with all its objects, in chunks of at most ``max_objects``; deterministic."""
        entries = []
        for d, arr in enumerate(self.datasets):
            for s in range(len(arr.samples)):
                rows = self._rows(d, s)
                for i in range(0, len(rows), max_objects):
                    entries.append(Entry(d, s, rows[i : i + max_objects]))
        return entries

    def sample_modality(self, d: int, s: int) -> str:
        arr = self.datasets[d]
        return arr.cases[int(arr.samples[s, S_CASE])]["modality"]

    def sample_case(self, d: int, s: int) -> str:
        arr = self.datasets[d]
        return arr.cases[int(arr.samples[s, S_CASE])]["case"]

    def sample_key(self, d: int, s: int) -> tuple[str, str, str]:
        """(dataset, modality, case) of a sample: what subset membership (Subset.includes) is decided on."""
        return self.datasets[d].name, self.sample_modality(d, s), self.sample_case(d, s)

    def image_plan(self) -> list[Entry]:
        """Every sample once (with its first object), deterministic."""
        return [Entry(d, s, self._rows(d, s)[:1]) for d, arr in enumerate(self.datasets) for s in range(len(arr.samples))]

    def _rows(self, d: int, s: int) -> list[int]:
        first, count = self.datasets[d].samples[s, S_FIRST], self.datasets[d].samples[s, S_COUNT]
        return list(range(int(first), int(first + count)))

    def _entry(self, rng, d: int, s: int, primary: int | None, k: int) -> Entry:
        rows = self._rows(d, s)
        if primary is None:
            primary = rows[rng.integers(len(rows))]
        others = [r for r in rows if r != primary]
        picked = [others[i] for i in rng.permutation(len(others))[: k - 1]] if k > 1 else []
        return Entry(d, s, [primary] + picked)

    # ------------------------------------------------------------------ batches

    def make_batch(self, entries: list[Entry], objects_per_image: int, generator: torch.Generator | None, augment: bool,
                   jitter_px: int = 5, zoom_probability: float = 0.0, zoom_small_side: float = 32.0,
                   zoom_k: tuple[float, float] = (4.0, 10.0), propagation_probability: float = 0.0,
                   intensity_probability: float = 0.0) -> Batch:
        """Images, boxes (256 frame), masks of ``entries``. Boxes: with ``augment``, the tight box jittered, or
        for 3D slices with ``propagation_probability`` the engine's propagation prompt (:func:`propagation_boxes`);
        without, 3D slices always get their propagation prompt, so that validation scores what inference does.
        With ``augment``: flips, and with ``intensity_probability`` > 0 :func:`random_intensity`.

        Two passes: every random decision and every box is made on the host, image by image in a fixed order (a
        zoomed crop is cut right there); then the images that are not zoomed are gathered, flipped and remapped on
        the device for the whole batch at once."""
        k = max(objects_per_image, max(len(e.rows) for e in entries))
        zoomed: dict[int, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}
        plain: list[tuple[int, Entry, torch.Tensor, tuple[bool, bool], tuple[float, float] | None]] = []
        for i, e in enumerate(entries):
            arr = self.datasets[e.dataset]
            obj = arr.objects[e.rows]
            crop = None
            if augment and zoom_probability > 0 and obj[0, O_LONG] < zoom_small_side and self._rand(generator) < zoom_probability:
                crop = self._zoom(e, generator, jitter_px, zoom_k)
            if crop is not None:
                img, bx, mk = crop
                if augment and intensity_probability > 0:
                    img = random_intensity(img, INPUT_SIZE, INPUT_SIZE, generator, intensity_probability)
                zoomed[i] = (img, bx, mk)
                continue
            sample = arr.samples[e.sample]
            oh, ow = int(sample[S_OH]), int(sample[S_OW])
            scale = INPUT_SIZE / max(oh, ow)
            bx = torch.from_numpy(obj[:, O_OX0 : O_OY1 + 1].copy()) * scale  # host
            if augment and jitter_px > 0:
                bx = jitter_boxes(bx, jitter_px, (oh - 1) * scale, (ow - 1) * scale, generator)
            if sample[S_SLICE] >= 0 and (not augment or propagation_probability > 0):
                use = [not augment or self._rand(generator) < propagation_probability for _ in range(len(obj))]
                if any(use):
                    prop = torch.from_numpy(propagation_boxes(obj, scale, oh, ow))
                    bx = torch.where(torch.tensor(use)[:, None], prop, bx)
            flips = draw_flips(generator) if augment else (False, False)
            bx = flip_boxes(bx, flips, oh, ow)
            # no draw when off: runs recorded without intensity augmentation keep their random stream
            intensity = draw_intensity(generator, intensity_probability) if augment and intensity_probability > 0 else None
            plain.append((i, e, bx, flips, intensity))
        return self._assemble([e.dataset for e in entries], k, zoomed, plain)

    def _assemble(self, datasets: list[int], k: int, crops: dict, plain: list) -> Batch:
        """The device pass of :meth:`make_batch` (and of validation's zoom tiles, all ``crops``): the crops, made
        already, put in their places; then per dataset one gather of the plain images and their (packed) masks, one
        flip pass and one intensity remap for the whole batch. Boxes stay on the host until the end; the padding
        slots of an image repeat its first object and are marked invalid."""
        n = len(datasets)
        images = torch.empty(n, 3, INPUT_SIZE, INPUT_SIZE, device=self.device)
        masks = torch.empty(n, k, INPUT_SIZE, INPUT_SIZE, dtype=torch.bool, device=self.device)
        boxes = torch.empty(n, k, 4)
        valid = torch.zeros(n, k, dtype=torch.bool)
        heights, widths = [INPUT_SIZE] * n, [INPUT_SIZE] * n  # crops fill the frame, and are flipped already
        flips: list[tuple[bool, bool]] = [(False, False)] * n
        remaps: dict[int, tuple[float, float]] = {}
        for i, (img, _, mk) in crops.items():
            images[i] = img
            masks[i, : len(mk)] = mk
            masks[i, len(mk) :] = mk[:1]
        for i, bx in [(i, crop[1]) for i, crop in crops.items()] + [(i, bx) for i, _, bx, _, _ in plain]:
            boxes[i, : len(bx)] = bx
            boxes[i, len(bx) :] = bx[:1]
            valid[i, : len(bx)] = True
        by_dataset: dict[int, list[tuple[int, Entry]]] = {}
        for i, e, _, flip, intensity in plain:
            by_dataset.setdefault(e.dataset, []).append((i, e))
            heights[i], widths[i] = (int(v) for v in self.datasets[e.dataset].samples[e.sample, [S_H, S_W]])
            flips[i] = flip
            if intensity is not None:
                remaps[i] = intensity
        for d, members in by_dataset.items():
            arr = self.datasets[d]
            at = to_device([i for i, _ in members], self.device, torch.int64)
            img = arr.images.index_select(0, to_device([e.sample for _, e in members], self.device, torch.int64))
            img = img.permute(0, 3, 1, 2).float() / 255.0
            images.index_copy_(0, at, img.expand(-1, 3, -1, -1) if img.shape[1] == 1 else img)
            rows = [e.rows + [e.rows[0]] * (k - len(e.rows)) for _, e in members]  # padding repeats the first object
            packed = arr.masks.index_select(0, to_device(rows, self.device, torch.int64).view(-1))
            masks.index_copy_(0, at, unpack_masks(packed).view(len(members), k, INPUT_SIZE, INPUT_SIZE))
        images, masks = augment_pixels(images, masks, flips, heights, widths, remaps)
        return Batch(images, to_device(boxes, self.device), masks, to_device(valid, self.device), datasets)

    @staticmethod
    def _rand(generator) -> float:
        return float(torch.rand((), generator=generator))

    def _original(self, d: int, s: int):
        key = (d, s)
        if key not in self._originals:
            arr = self.datasets[d]
            src = int(arr.source_sample_ids[s])  # type: ignore[attr-defined]
            path = os.path.join(arr.cache_dir, "originals", f"{src}.npz")
            if not os.path.exists(path):
                self._originals[key] = None  # type: ignore[assignment]
            else:
                with np.load(path) as z:
                    image = torch.from_numpy(z["image"].astype(np.float32)).to(self.device)
                    label = torch.from_numpy(z["label"].astype(np.int32)).to(self.device)
                self._originals[key] = (image, label)
        return self._originals[key]

    def _zoom(self, e: Entry, generator, jitter_px: int, zoom_k: tuple[float, float]):
        """A square crop of the original image around the primary object, side k x its long side (k uniform in
        zoom_k, at least 32 px, at most the image), preprocessed like an image; other objects fully inside it
        come along."""
        original = self._original(e.dataset, e.sample)
        if original is None:
            return None
        _, label = original
        arr = self.datasets[e.dataset]
        oh, ow = label.shape
        x0, y0, x1, y1 = (int(v) for v in arr.objects[e.rows[0], O_OX0 : O_OY1 + 1])
        long_side = max(x1 - x0 + 1, y1 - y0 + 1)
        u = self._rand(generator)
        side = int(round((zoom_k[0] + u * (zoom_k[1] - zoom_k[0])) * long_side))
        side = min(max(side, 32), oh, ow)
        if side < long_side:
            return None
        lo_x, hi_x = max(0, x1 + 1 - side), min(x0, ow - side)
        lo_y, hi_y = max(0, y1 + 1 - side), min(y0, oh - side)
        sx = lo_x + int(self._rand(generator) * (hi_x - lo_x + 1))
        sy = lo_y + int(self._rand(generator) * (hi_y - lo_y + 1))
        sx, sy = min(sx, hi_x), min(sy, hi_y)
        rows = [e.rows[0]] + [r for r in e.rows[1:] if self._inside(e.dataset, r, sx, sy, side)]
        img, boxes, mk = self._crop(e.dataset, e.sample, rows, sx, sy, side)
        if jitter_px > 0:
            scale = INPUT_SIZE / side
            boxes = jitter_boxes(boxes, jitter_px, (side - 1) * scale, (side - 1) * scale, generator)
        return random_flips(img, boxes, mk, INPUT_SIZE, INPUT_SIZE, side, side, generator)

    def _inside(self, d: int, row: int, sx: int, sy: int, side: int) -> bool:
        o = self.datasets[d].objects[row]
        return o[O_OX0] >= sx and o[O_OY0] >= sy and o[O_OX1] < sx + side and o[O_OY1] < sy + side

    def _crop(self, d: int, s: int, rows: list[int], sx: int, sy: int, side: int):
        """The square crop [sy, sy + side) x [sx, sx + side) of sample s's original, preprocessed like an image
        (area resize to 256, min-max), with the rows' boxes (256 frame of the crop) and masks (area-resized, then
        binarised by the cache's target rule)."""
        image, label = self._original(d, s)
        arr = self.datasets[d]
        crop = image[sy : sy + side, sx : sx + side]
        if crop.dim() == 2:
            crop = crop.unsqueeze(-1)
        w = area_weights_tensor(side, INPUT_SIZE, self.device)
        resized = torch.einsum("ij,jkc->ikc", w, crop)
        resized = torch.einsum("lk,ikc->ilc", w, resized)
        resized = resized - resized.min()
        resized = resized / torch.clamp(resized.max(), min=NORMALIZE_EPS)
        img = resized.permute(2, 0, 1)
        if img.shape[0] == 1:
            img = img.expand(3, -1, -1)
        label_crop = label[sy : sy + side, sx : sx + side]
        masks = []
        for r in rows:
            ids = to_device(arr.label_ids[r][arr.label_ids[r] >= 0], self.device)
            m = torch.isin(label_crop, ids).float()
            masks.append(coverage_to_target_tensor(w @ m @ w.T, arr.target_rule))
        boxes = torch.from_numpy(arr.objects[rows][:, O_OX0 : O_OY1 + 1].copy())  # on the host, as make_batch's
        boxes = (boxes - torch.tensor([sx, sy, sx, sy], dtype=boxes.dtype)) * (INPUT_SIZE / side)
        return img, boxes, torch.stack(masks)

    def zoom_tiles(self, small_side: float, context_factor: float, min_tile: int = 32) -> tuple[list[Tile], set[tuple[int, int]]]:
        """Validation as inference segments small objects (packages/core/src/pipeline/smallObjectZoom.ts): every
        object whose long side at 256 is < ``small_side`` goes to the grid tile of side 2^ceil(log2(context_factor
        x its long side)) (>= min_tile, stride side / 2, last one flush with the edge) best centred on it; objects
        sharing a tile are decoded together. Tiles are kept square (side <= the image's short side). 2D images only,
        as the engine. Returns the tiles and the (dataset, row) of every object they cover; objects without an
        original stay whole-image."""
        tiles: dict[tuple, Tile] = {}
        covered: set[tuple[int, int]] = set()
        for d, arr in enumerate(self.datasets):
            small = np.flatnonzero(arr.objects[:, O_LONG] < small_side)
            for r in small.tolist():
                s = int(arr.objects[r, O_SAMPLE])
                if arr.samples[s, S_SLICE] >= 0 or self._original(d, s) is None:
                    continue  # the engine zooms 2D images only; 3D slices keep their propagation prompts
                oh, ow = int(arr.samples[s, S_OH]), int(arr.samples[s, S_OW])
                x0, y0, x1, y1 = (int(v) for v in arr.objects[r, O_OX0 : O_OY1 + 1])
                long_side = max(x1 - x0 + 1, y1 - y0 + 1)
                side = max(min_tile, 2 ** math.ceil(math.log2(context_factor * long_side)))
                side = min(side, oh, ow)
                if side < long_side or side >= max(oh, ow):
                    continue
                sx, sy = tile_origin(x0, x1, side, ow), tile_origin(y0, y1, side, oh)
                tile = tiles.setdefault((d, s, side, sx, sy), Tile(d, s, sx, sy, side, []))
                tile.rows.append(r)
                covered.add((d, r))
        return list(tiles.values()), covered

    def make_tile_batch(self, tiles: list[Tile]) -> Batch:
        """Validation batch of zoom tiles (no augmentation)."""
        crops = {i: self._crop(t.dataset, t.sample, t.rows, t.x0, t.y0, t.side) for i, t in enumerate(tiles)}
        return self._assemble([t.dataset for t in tiles], max(len(t.rows) for t in tiles), crops, [])


def tile_origin(lo: int, hi: int, side: int, size: int) -> int:
    """Origin of the grid tile (side, stride side / 2, last one flush with the edge) best centred on [lo, hi] that
    contains it (smallObjectZoom.ts tileOrigin)."""
    if side >= size:
        return 0
    last = size - side
    centre = (lo + hi + 1) / 2
    origins = list(range(0, last, max(1, side // 2))) + [last]
    best, best_dist = -1, math.inf
    for o in origins:
        if o > lo or o + side < hi + 1:
            continue
        dist = abs(o + side / 2 - centre)
        if dist < best_dist:
            best, best_dist = o, dist
    return best if best >= 0 else min(max(0, round(centre - side / 2)), last)


@functools.lru_cache(maxsize=256)
def _area_weights_cached(src: int, dst: int, device: str) -> torch.Tensor:
    return torch.from_numpy(area_weights(src, dst)).float().to(device)


def area_weights_tensor(src: int, dst: int, device: torch.device) -> torch.Tensor:
    return _area_weights_cached(src, dst, str(device))


_SHIFTS = {}


def unpack_masks(packed: torch.Tensor) -> torch.Tensor:
    """uint8 [M, 256, 32] (np.packbits, big bit order) → bool [M, 256, 256]."""
    key = str(packed.device)
    if key not in _SHIFTS:
        _SHIFTS[key] = torch.arange(7, -1, -1, dtype=torch.uint8, device=packed.device)
    bits = (packed.unsqueeze(-1) >> _SHIFTS[key]) & 1
    return bits.reshape(packed.shape[0], packed.shape[1], packed.shape[2] * 8).bool()


def propagation_boxes(objects: np.ndarray, scale: float, height: int, width: int) -> np.ndarray:
    """The engine's 3D prompts of these object rows in the 256 frame (float32 [N, 4]): the stored prompt box scaled,
    widened by PROPAGATION_MARGIN where flagged, clamped to the image and to the 3D box's xy extent (as
    segmentVolume.ts does, with the neighbour's true mask box standing in for the predicted one)."""
    p = objects[:, O_PX0 : O_PY1 + 1].astype(np.float64) * scale
    v = objects[:, O_VX0 : O_VY1 + 1].astype(np.float64) * scale
    m = objects[:, O_PWIDEN : O_PWIDEN + 1] * PROPAGATION_MARGIN
    # the engine widens the neighbour's mask box as it lies in the frame (pixels overlapped), then clamps
    p = np.concatenate([np.floor(p[:, :2] + 1e-9) - m, np.ceil(p[:, 2:] + scale - 1e-9) - 1 + m], axis=1)
    widened = objects[:, O_PWIDEN] > 0
    p = np.where(widened[:, None], p, objects[:, O_PX0 : O_PY1 + 1].astype(np.float64) * scale)
    limit = np.array([(width - 1) * scale, (height - 1) * scale] * 2)
    p = np.clip(p, 0, limit)
    lo = np.maximum(p[:, :2], v[:, :2])
    hi = np.minimum(p[:, 2:], v[:, 2:])
    inside = (lo <= hi).all(axis=1)
    return np.where(inside[:, None], np.concatenate([lo, hi], axis=1), v).astype(np.float32)
