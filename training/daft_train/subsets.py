"""DAFT subsets: which training data each specialised expert is fine-tuned on.

``--subsets modality`` (default): one subset per modality found in the data.
``--subsets "CT+MR+PET,Microscopy"``: modality groups (name = modalities joined by "_").
``--subsets FILE.json``: {"NAME": {"modalities": [...], "datasets": [...]}, ...}; an empty or missing list means
"any"; a sample belongs to a subset when its modality and its dataset name both match.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass
class Subset:
    name: str
    modalities: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)

    def includes(self, dataset: str, modality: str) -> bool:
        return (not self.modalities or modality in self.modalities) and (not self.datasets or dataset in self.datasets)


GENERAL = Subset("general")


def data_modalities(metas: list[dict]) -> dict[str, set[str]]:
    """modality → dataset names, from cache meta.json documents."""
    found: dict[str, set[str]] = {}
    for meta in metas:
        for case in meta["cases"]:
            found.setdefault(case["modality"], set()).add(meta["dataset"])
    return found


def parse_subsets(spec: str | None, metas: list[dict]) -> list[Subset]:
    if not spec or spec == "modality":
        return [Subset(m, [m]) for m in sorted(data_modalities(metas))]
    if spec.endswith(".json") or os.path.exists(spec):
        try:
            with open(spec) as f:
                doc = json.load(f)
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{spec}: cannot read subsets JSON: {exc}") from exc
        if not isinstance(doc, dict) or not doc:
            raise ValueError(f'{spec}: expected an object {{"NAME": {{"modalities": [...], "datasets": [...]}}}}')
        subsets = []
        for name, body in doc.items():
            if not isinstance(body, dict) or not all(isinstance(body.get(k, []), list) for k in ("modalities", "datasets")):
                raise ValueError(f"{spec}: subset {name!r} must be an object with 'modalities' and/or 'datasets' lists")
            subsets.append(Subset(name, [str(m) for m in body.get("modalities", [])], [str(d) for d in body.get("datasets", [])]))
    else:
        subsets = []
        for group in spec.split(","):
            mods = [m.strip() for m in group.split("+") if m.strip()]
            if not mods:
                raise ValueError(f"--subsets: empty group in {spec!r}")
            subsets.append(Subset("_".join(mods), mods))
    for s in subsets:
        if not _NAME.match(s.name) or s.name == GENERAL.name:
            raise ValueError(f"--subsets: invalid subset name {s.name!r} (letters, digits, _ . - ; not 'general')")
    if len({s.name for s in subsets}) != len(subsets):
        raise ValueError("--subsets: duplicate subset names")
    return subsets


def subset_modalities(subset: Subset, metas: list[dict]) -> list[str]:
    """Modalities an expert for ``subset`` serves: its declared ones, else those of its data."""
    if subset.modalities:
        return list(subset.modalities)
    return sorted({c["modality"] for m in metas for c in m["cases"] if subset.includes(m["dataset"], c["modality"])})
