"""Objects of one labelled case: which label ids form each object, in which order, and their boxes.

Rules (shared with the TypeScript importer):
- every entry of dataset.json "labels" except background: an int is one label, a list is a region (union);
  with ``instance_labels`` true every non-zero id is one object, named ``<class>_<id>``, ids increasing;
- order: regions sorted by number of label ids, descending (outer first, stable), then single labels in
  dataset.json order;
- an object whose mask is empty, or fully covered by the union of the objects after it, is dropped
  (hippocampus = [1, 2] is dropped because anterior ∪ posterior cover it).
Boxes are tight and max inclusive: 2D (x0, y0, x1, y1), 3D (x0, y0, z0, x1, y1, z1) with x the last array axis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ObjectSpec:
    name: str
    label_ids: tuple[int, ...]


@dataclass(frozen=True)
class CaseObject:
    name: str
    label_ids: tuple[int, ...]
    box: tuple[int, ...]


def object_specs(labels: dict, source: str = "dataset.json") -> list[ObjectSpec]:
    """Non-instance object definitions from a dataset.json "labels" mapping, in training order."""
    regions: list[ObjectSpec] = []
    singles: list[ObjectSpec] = []
    for name, value in labels.items():
        if name == "background":
            continue
        if isinstance(value, bool):
            raise ValueError(f"{source}: label {name!r} must be an int or a list of ints, got {value!r}")
        if isinstance(value, int):
            if value == 0:
                continue
            singles.append(ObjectSpec(name, (value,)))
        elif isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            regions.append(ObjectSpec(name, tuple(value)))
        else:
            raise ValueError(f"{source}: label {name!r} must be an int or a non-empty list of ints, got {value!r}")
    regions.sort(key=lambda s: -len(s.label_ids))  # stable
    return regions + singles


def instance_class_name(labels: dict) -> str:
    names = [n for n in labels if n != "background"]
    return names[0] if names else "object"


def bounding_box(mask: np.ndarray) -> tuple[int, ...]:
    """Tight max-inclusive box of a non-empty 2D (H, W) or 3D (D, H, W) mask."""
    if mask.ndim == 2:
        ys = np.flatnonzero(mask.any(axis=1))
        xs = np.flatnonzero(mask.any(axis=0))
        return (int(xs[0]), int(ys[0]), int(xs[-1]), int(ys[-1]))
    if mask.ndim == 3:
        zs = np.flatnonzero(mask.any(axis=(1, 2)))
        ys = np.flatnonzero(mask.any(axis=(0, 2)))
        xs = np.flatnonzero(mask.any(axis=(0, 1)))
        return (int(xs[0]), int(ys[0]), int(zs[0]), int(xs[-1]), int(ys[-1]), int(zs[-1]))
    raise ValueError(f"expected a 2D or 3D mask, got shape {mask.shape}")


def object_mask(label: np.ndarray, label_ids: tuple[int, ...]) -> np.ndarray:
    if len(label_ids) == 1:
        return label == label_ids[0]
    return np.isin(label, label_ids)


def extract_objects(label: np.ndarray, labels: dict, instance_labels: bool, source: str = "label") -> list[CaseObject]:
    """The kept objects of one label map (2D or 3D), in order, with their boxes."""
    if instance_labels:
        ids = np.unique(label)
        ids = ids[ids != 0]
        if ids.size and ids.min() < 0:
            raise ValueError(f"{source}: instance ids must be positive, found {int(ids.min())}")
        cls = instance_class_name(labels)
        objects = []
        # one pass: sort pixels by id and read each object's coordinates from its run
        flat = label.reshape(-1)
        nz = np.flatnonzero(flat)
        order = nz[np.argsort(flat[nz], kind="stable")]
        sorted_ids = flat[order]
        starts = np.searchsorted(sorted_ids, ids, side="left")
        ends = np.searchsorted(sorted_ids, ids, side="right")
        coords = np.unravel_index(order, label.shape)
        for i, s, e in zip(ids, starts, ends):
            c = [axis[s:e] for axis in coords]
            if label.ndim == 2:
                box = (int(c[1].min()), int(c[0].min()), int(c[1].max()), int(c[0].max()))
            else:
                box = (int(c[2].min()), int(c[1].min()), int(c[0].min()), int(c[2].max()), int(c[1].max()), int(c[0].max()))
            objects.append(CaseObject(f"{cls}_{int(i)}", (int(i),), box))
        return objects
    specs = object_specs(labels, source)
    masks = [object_mask(label, s.label_ids) for s in specs]
    kept: list[CaseObject] = []
    later_union = np.zeros(label.shape, dtype=bool)
    for spec, mask in reversed(list(zip(specs, masks))):
        if mask.any() and (mask & ~later_union).any():
            kept.append(CaseObject(spec.name, spec.label_ids, bounding_box(mask)))
        later_union |= mask
    kept.reverse()
    return kept
