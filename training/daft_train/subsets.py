"""DAFT subsets: which training data each specialised expert is fine-tuned on.

``--subsets modality`` (default): one subset per modality found in the data.
``--subsets "CT+MR+PET,Microscopy"``: modality groups (name = modalities joined by "_").
``--subsets FILE.json``: {"NAME": {"modalities": [...], "datasets": [...]}, ...}; an empty or missing list means
"any"; a sample belongs to a subset when its modality and its dataset name both match.
``--subsets SUBSETS.json`` written by ``daft subsets propose`` (format "daft-subsets"): one subset per cluster
(``groups.2d.subsets["2d-cluster-0"]`` ...), membership by case: its ``cases`` (train split) and ``valCases``
(val split cases routed to it by nearest centroid), ids ``"<dataset>/<case>"`` as in the cache's meta.json.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


SUBSETS_FORMAT = "daft-subsets"


@dataclass
class Subset:
    name: str
    modalities: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    # Case-level membership ("<dataset>/<case>"), for data-driven clusters; None: by modality and dataset only.
    cases: frozenset[str] | None = None

    def includes(self, dataset: str, modality: str, case: str | None = None) -> bool:
        if self.cases is not None:
            return case is not None and f"{dataset}/{case}" in self.cases
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
        if isinstance(doc, dict) and doc.get("format") == SUBSETS_FORMAT:
            subsets = cluster_subsets(doc, spec)
        else:
            subsets = named_subsets(doc, spec)
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


def cluster_subsets_file(p) -> str | None:
    """The run's --subsets file when it is a ``daft subsets propose`` file (clusters), else None."""
    spec = p.info.get("subsets")
    if not spec or not spec.endswith(".json") or not os.path.isfile(spec):
        return None
    try:
        with open(spec) as f:
            doc = json.load(f)
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{spec}: cannot read subsets JSON: {exc}") from exc
    return spec if isinstance(doc, dict) and doc.get("format") == SUBSETS_FORMAT else None


def named_subsets(doc, source: str) -> list[Subset]:
    """{"NAME": {"modalities": [...], "datasets": [...]}, ...}"""
    if not isinstance(doc, dict) or not doc:
        raise ValueError(f'{source}: expected an object {{"NAME": {{"modalities": [...], "datasets": [...]}}}}')
    subsets = []
    for name, body in doc.items():
        if not isinstance(body, dict) or not all(isinstance(body.get(k, []), list) for k in ("modalities", "datasets")):
            raise ValueError(f"{source}: subset {name!r} must be an object with 'modalities' and/or 'datasets' lists")
        subsets.append(Subset(name, [str(m) for m in body.get("modalities", [])], [str(d) for d in body.get("datasets", [])]))
    return subsets


def cluster_subsets(doc: dict, source: str) -> list[Subset]:
    """The clusters of a ``daft subsets propose`` file, each a case-level subset (train ``cases`` + ``valCases``)."""
    if doc.get("version") != 1:
        raise ValueError(f"{source}: daft-subsets version {doc.get('version')!r} is not supported (expected 1)")
    groups = doc.get("groups")
    if not isinstance(groups, dict):
        raise ValueError(f"{source}: daft-subsets file without 'groups'")
    subsets: list[Subset] = []
    for key in ("2d", "3d"):
        group = groups.get(key)
        if group is None:
            continue
        members = group.get("subsets") if isinstance(group, dict) else None
        if not isinstance(members, dict):
            raise ValueError(f"{source}: groups.{key}.subsets must be an object of clusters")
        for name, body in members.items():
            ids = [body.get(k, []) for k in ("cases", "valCases")] if isinstance(body, dict) else None
            if ids is None or not all(isinstance(v, list) and all(isinstance(c, str) for c in v) for v in ids):
                raise ValueError(f"{source}: cluster {name!r} must have 'cases' (and 'valCases') lists of '<dataset>/<case>' ids")
            subsets.append(Subset(name, cases=frozenset(ids[0] + ids[1])))
    if not subsets:
        raise ValueError(f"{source}: daft-subsets file has no clusters")
    return subsets


def subset_modalities(subset: Subset, metas: list[dict]) -> list[str]:
    """Modalities an expert for ``subset`` serves: its declared ones, else those of its data. A cluster (case-level
    subset) serves none by modality: the engine reaches its expert through the cluster rule (routing.subsets)."""
    if subset.modalities:
        return list(subset.modalities)
    if subset.cases is not None:
        return []
    return sorted({c["modality"] for m in metas for c in m["cases"] if subset.includes(m["dataset"], c["modality"], c["case"])})
