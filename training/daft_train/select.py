"""Model selection: every stage's model evaluated on every subset's validation split (DSC); per subset the
best selectable stage wins. Writes selection.json, selection.csv (stages x subsets) and selection.md."""

from __future__ import annotations

import csv
import io
import json
import os

from .config import validation_zoom
from .evaluate import evaluate_segmentation, group_score
from .pipeline import STAGE_DAFT, STAGE_DISTILL, STAGE_GENERAL, STAGE_TEACHER, Pipeline
from .subsets import GENERAL
from .trainer import read_done, write_json_atomic

# On ties the earlier stage wins (fewer distinct experts to ship).
PREFERENCE = [STAGE_GENERAL, STAGE_DISTILL]


def _stage_key(stage: str, subset: str | None) -> str:
    return f"{stage}/{subset}" if subset else stage


def run_selection(p: Pipeline) -> dict:
    subsets = [GENERAL] + p.subsets()
    finished = {s: read_done(p.stage_dir(s)) is not None for s in (STAGE_TEACHER, STAGE_DISTILL, STAGE_GENERAL)}
    if not finished[STAGE_GENERAL] and not finished[STAGE_DISTILL]:
        raise ValueError(f"{p.run_dir}: select needs the distill or general stage to have finished")
    rows = [s for s in (STAGE_TEACHER, STAGE_DISTILL, STAGE_GENERAL) if finished[s]] + [STAGE_DAFT]
    models: dict[str, object] = {}

    def model_for(key: str):
        if key not in models:
            stage, _, subset = key.partition("/")
            models[key] = p.load_stage_model(stage, subset or None).to(p.runtime.device)
        return models[key]

    result = {"subsets": {}, "rows": rows, "subsets_spec": p.info["subsets"]}
    batch = p.cfg.train.batch_images
    zoom = validation_zoom(p.cfg.train)
    # every subset's validation samples are a part of it: one pass per model
    store = p.store("val", val_cap=p.cfg.train.select_val_images_per_dataset)
    shared = {}
    for key in ([STAGE_TEACHER] if finished[STAGE_TEACHER] else []) + [s for s in (STAGE_DISTILL, STAGE_GENERAL) if finished[s]]:
        shared[key] = evaluate_segmentation(model_for(key), store, p.runtime, batch, zoom=zoom)
        models.pop(key, None)
    for subset in subsets:
        candidates = [s for s in (STAGE_DISTILL, STAGE_GENERAL) if finished[s]]
        entry = {"modalities": subset.modalities, "datasets": subset.datasets, "val_samples": 0, "val_objects": 0,
                 "scores": {}, "selected": None}
        for key, evaluation in shared.items():
            entry["scores"][key], entry["val_objects"] = group_score(evaluation, subset.includes)
        entry["val_samples"] = sum(1 for d, arr in enumerate(store.datasets) for s in range(len(arr.samples))
                                   if subset.includes(*store.sample_key(d, s)))
        if entry["val_objects"] == 0:
            p.log(f"[select] {subset.name}: no validation data; its modalities route to the general expert")
            entry["scores"] = {}
            result["subsets"][subset.name] = entry
            continue
        daft_key = _stage_key(STAGE_DAFT, subset.name)
        if subset is not GENERAL and read_done(p.stage_dir(STAGE_DAFT, subset.name)) is not None:
            evaluation = evaluate_segmentation(model_for(daft_key), store, p.runtime, batch, include=subset.includes,
                                               zoom=zoom)
            models.pop(daft_key, None)
            entry["scores"][daft_key] = evaluation["dsc"]
            candidates.append(daft_key)
        for key, score in entry["scores"].items():
            p.log(f"[select] {subset.name:>12} {key:<20} val DSC {score:.4f} ({entry['val_objects']} objects)")
        order = sorted(candidates, key=lambda k: (-entry["scores"][k], PREFERENCE.index(k) if k in PREFERENCE else len(PREFERENCE)))
        entry["selected"] = order[0]
        p.log(f"[select] {subset.name}: selected {entry['selected']}")
        result["subsets"][subset.name] = entry
    if p.runtime.is_main:
        write_selection(p.run_dir, result)
    return result


def _table(result: dict) -> tuple[list[str], list[list[str]]]:
    names = list(result["subsets"])
    header = ["stage"] + names
    body = []
    for row in result["rows"]:
        line = [row + (" (reference)" if row == STAGE_TEACHER else "")]
        for name in names:
            entry = result["subsets"][name]
            key = _stage_key(STAGE_DAFT, name) if row == STAGE_DAFT else row
            score = entry["scores"].get(key)
            cell = "" if score is None else f"{score:.4f}"
            if score is not None and entry["selected"] == key:
                cell += " *"
            line.append(cell)
        body.append(line)
    return header, body


def selected_mean(result: dict) -> float | None:
    """Mean over the subsets (the general one excluded) of the selected stage's validation DSC: one number to
    compare runs by, since each subset ships the stage it selected."""
    scores = [e["scores"][e["selected"]] for name, e in result["subsets"].items() if name != GENERAL.name and e["selected"]]
    return sum(scores) / len(scores) if scores else None


def write_selection(run_dir: str, result: dict) -> None:
    write_json_atomic(result, os.path.join(run_dir, "selection.json"))
    header, body = _table(result)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(body)
    with open(os.path.join(run_dir, "selection.csv"), "w") as f:
        f.write(buf.getvalue())
    lines = [
        "# Model selection",
        "",
        "Validation DSC (box prompts, mean over objects) of each stage's model on each subset; * = selected.",
        "The teacher is a reference only (it is not shipped). Empty: not trained / no validation data.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    lines.append("")
    lines.append("| subset | selected | validation samples | validation objects |")
    lines.append("|---|---|---|---|")
    for name, entry in result["subsets"].items():
        lines.append(f"| {name} | {entry['selected'] or '(general expert)'} | {entry['val_samples']} | {entry['val_objects']} |")
    mean = selected_mean(result)
    if mean is not None:
        lines += ["", f"Mean over the subsets (general excluded) of the selected validation DSC: {mean:.4f}"]
    with open(os.path.join(run_dir, "selection.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def load_selection(run_dir: str) -> dict:
    path = os.path.join(run_dir, "selection.json")
    if not os.path.exists(path):
        raise ValueError(f"{path}: not found; run the select stage first")
    with open(path) as f:
        return json.load(f)
