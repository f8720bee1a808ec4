"""``merge-experts``: put experts of one models folder into another (e.g. a CT expert fine-tuned on a hospital's
own data into a copy of the shipped zoo). An expert of the same name is replaced, a new one appended; routing,
fallback and every other expert stay as they are. The result is validated as a manifest and published whole
(written beside the destination, then swapped in)."""

from __future__ import annotations

import json
import os
import shutil

from ..data.cache import publishing_folder, sha256_file
from .manifest import load_manifest, validate_manifest


def _expert_folders(entry: dict) -> set[str]:
    return {os.path.dirname(entry[part]["file"]) for part in ("encoder", "decoder")}


def merge_experts(into_dir: str, from_dir: str, names: list[str], out_dir: str | None = None, log=print) -> str:
    """Write ``into_dir``'s zoo with the experts ``names`` of ``from_dir`` merged in to ``out_dir`` (default:
    ``into_dir`` itself, replaced); returns the manifest path. The merged expert keeps its name; its files go to a
    folder of the same name as in ``from_dir`` (refused if that folder belongs to another expert of ``into_dir``)."""
    into = _raw_manifest(os.path.join(into_dir, "manifest.json"))
    source = _raw_manifest(os.path.join(from_dir, "manifest.json"))
    by_name = {e["name"]: e for e in source["experts"]}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ValueError(f"{os.path.join(from_dir, 'manifest.json')}: no expert named {unknown[0]!r} "
                         f"(experts: {', '.join(by_name)})")
    experts = [dict(e) for e in into["experts"]]
    kept_files: set[str] = set()
    for name in names:
        entry = dict(by_name[name])
        folders = _expert_folders(entry)
        others = {f for e in experts if e["name"] != name for f in _expert_folders(e)}
        if folders & others:
            raise ValueError(f"{into_dir}: folder {sorted(folders & others)[0]} belongs to another expert; "
                             f"cannot merge {name!r} from {from_dir}")
        at = next((i for i, e in enumerate(experts) if e["name"] == name), None)
        if at is None:
            experts.append(entry)
            log(f"[merge] {name}: added from {from_dir}")
        else:
            experts[at] = entry
            log(f"[merge] {name}: replaced by {from_dir}'s ({entry.get('version', 'no version')})")
        kept_files |= {entry[part]["file"] for part in ("encoder", "decoder")}
    manifest = dict(into)
    manifest["experts"] = experts
    try:
        validate_manifest(manifest)
    except ValueError as exc:
        raise ValueError(f"{into_dir}: the merged manifest is not valid: {exc}") from exc
    published = os.path.abspath(out_dir or into_dir)
    with publishing_folder(published) as tmp:
        files = {e[part]["file"] for e in experts for part in ("encoder", "decoder")}
        for rel in sorted(files):
            src = os.path.join(from_dir if rel in kept_files else into_dir, rel)
            dst = os.path.join(tmp, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(src, dst)
        for e in experts:
            for part in ("encoder", "decoder"):
                digest = sha256_file(os.path.join(tmp, e[part]["file"]))
                if e[part].get("sha256") and e[part]["sha256"] != digest:
                    raise ValueError(f"{e[part]['file']}: sha256 {digest} differs from the manifest's "
                                     f"{e[part]['sha256']} (damaged copy?)")
        # files the routing refers to (a learned selector, cluster subsets) travel with the zoo
        for ref in _routing_files(into.get("routing")):
            src = os.path.join(into_dir, ref)
            if os.path.exists(src):
                shutil.copyfile(src, os.path.join(tmp, ref))
        # the export report of the zoo, with a record of what was merged into it
        report_path = os.path.join(into_dir, "export_report.json")
        report = {}
        if os.path.exists(report_path):
            with open(report_path) as f:
                report = json.load(f)
        report.setdefault("merged", []).extend(
            {"expert": n, "from": os.path.abspath(from_dir), "version": by_name[n].get("version")} for n in names)
        with open(os.path.join(tmp, "export_report.json"), "w") as f:
            json.dump(report, f, indent=1)
        with open(os.path.join(tmp, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=2)
            f.write("\n")
    path = os.path.join(published, "manifest.json")
    log(f"[merge] published {published} ({len(experts)} experts)")
    return path


def _raw_manifest(path: str) -> dict:
    """The manifest as written (validated, but without the defaults load_manifest fills in)."""
    load_manifest(path)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _routing_files(routing) -> list[str]:
    """Relative file names a manifest's routing section points at (``selector``, ``subsets``)."""
    if not isinstance(routing, dict):
        return []
    return [v for v in routing.values() if isinstance(v, str) and v.endswith(".json") and not os.path.isabs(v)]
