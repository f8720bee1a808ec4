"""Continue the shipped experts on the GPU instead of training from scratch (training/GPU.md, "Continuation").

Nine minutes from scratch gave the session-16 experts 315 general optimizer steps; they validated below the shipped
CPU experts in every modality. A continuation starts from each shipped expert and is compared with it on the same
validation split, so the GPU's minutes can only add.

  prepare  (here) every expert of a models folder → a float16 trainable checkpoint (``import-onnx``) and
           continue.json (name, modalities, version, file hashes, mask logit offset) in a folder that travels with
           the pack (carry it; ``pack --beside`` counts it in the 64 MiB).
  train    (GPU, one process) one run folder per expert, ``cont-<name>``, on seed 0's split (every shipped expert's):
           a modality expert's run holds the datasets of its modalities, adopts the import as its general stage and
           trains it further as its DAFT stage; the general expert's run holds every dataset, adopts the import as its
           distill stage and trains it further as its general stage. Each run then selects between the two on its
           validation split. Stage caps share the time left by the images of an epoch (every expert about the same
           number of epochs).
  (then ``python -m daft_train.gpu_session collect``: the trained stages of every run folder into $OUT)
  finish   (here) unpack (gpu_session.restore), put each run's starting checkpoint back, export the runs whose
           continuation validated better than the expert it started from, merge those experts into a copy of the
           zoo (-o), and write continuation.md (per expert: start / continued validation DSC, epochs, merged or not).

python -m daft_train.continuation prepare --models models --out gpu-continue
python -m daft_train.continuation train --cache CACHE --start gpu-continue --runs RUNS --deadline EPOCH_S [--set K=V ...]
python -m daft_train.continuation finish --from OUT --start gpu-continue --runs training/runs/gpu-cont \\
    --cache training/runs/cpu/cache --into models -o training/runs/zoo-gpu
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback

from .gpu_session import Budget, SessionRecord, _epoch_size, _log, add_train_arguments
from .subsets import GENERAL

CONTINUE_FORMAT = "daft-continue"
RUN_PREFIX = "cont-"
MIN_STAGE_SECONDS = 10.0


# ---------------------------------------------------------------------------------------------- prepare


def prepare(models_dir: str, out_dir: str, config: str = "cpu", overrides=(), log=_log) -> dict:
    """Write every expert of ``models_dir`` as ``<out_dir>/<name>.pt`` (float16 weights, BatchNorm folded) and
    continue.json; the folder is published whole."""
    import torch

    from .config import apply_overrides, get_config
    from .data.cache import publishing_folder
    from .export.manifest import load_manifest
    from .export.onnx_import import import_expert

    cfg = apply_overrides(get_config(config), list(overrides))
    manifest = load_manifest(os.path.join(models_dir, "manifest.json"))
    experts = []
    with publishing_folder(out_dir) as tmp:
        for entry in manifest["experts"]:
            name = entry["name"]
            modalities = list(entry["modalities"])
            if name != GENERAL.name and name != "_".join(modalities):
                raise ValueError(f"{models_dir}: expert {name!r} serves {modalities}; a continuation run names its subset "
                                 f"after the modalities ({'_'.join(modalities)!r}), so it could not be merged back")
            model, meta = import_expert(models_dir, name, cfg)
            state = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
            torch.save({"model": state, "stage": "imported", **meta}, os.path.join(tmp, f"{name}.pt"))
            experts.append({"name": name, "modalities": modalities, "version": entry["version"], "checkpoint": f"{name}.pt",
                            "encoder_sha256": entry["encoder"]["sha256"], "decoder_sha256": entry["decoder"]["sha256"],
                            "maskLogitOffset": entry.get("maskLogitOffset", 0.0)})
            log(f"[continue] {name}: {sum(p.numel() for p in model.parameters())} parameters, version {entry['version']}")
        doc = {"format": CONTINUE_FORMAT, "version": 1, "models_dir": os.path.abspath(models_dir), "config": cfg.name,
               "overrides": list(overrides), "experts": experts}
        with open(os.path.join(tmp, "continue.json"), "w") as f:
            json.dump(doc, f, indent=1)
    log(f"[continue] {len(experts)} experts → {out_dir}")
    return doc


def read_start(start_dir: str) -> dict:
    path = os.path.join(start_dir, "continue.json")
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read ({exc}); run 'continuation prepare' first") from exc
    if not isinstance(doc, dict) or doc.get("format") != CONTINUE_FORMAT or doc.get("version") != 1 or not doc.get("experts"):
        raise ValueError(f"{path}: not a {CONTINUE_FORMAT} version 1 document with experts")
    return doc


# ---------------------------------------------------------------------------------------------- train


def dataset_modalities(datasets: list[str], cache: str, target_rule: str) -> dict[str, set[str]]:
    """dataset path → the modalities of its cached cases."""
    from .data.cache import build_cache

    out = {}
    for d in datasets:
        with open(os.path.join(build_cache(d, cache, 1, lambda m: None, target_rule), "meta.json")) as f:
            out[d] = {c["modality"] for c in json.load(f)["cases"]}
    return out


def plan_runs(start: dict, modalities: dict[str, set[str]]) -> list[dict]:
    """One run per expert with data: its datasets (every one for the general expert) and its subset spec."""
    runs = []
    for e in start["experts"]:
        general = e["name"] == GENERAL.name
        datasets = [d for d, mods in modalities.items() if general or mods & set(e["modalities"])]
        runs.append({"expert": e["name"], "general": general, "datasets": datasets,
                     "subsets": "modality" if general else "+".join(e["modalities"]), "checkpoint": e["checkpoint"]})
    return runs


def _images_per_epoch(p, subset) -> int:
    """Images an epoch of the run's stage trains on: its plan, cycled up to train.min_steps_per_epoch (the gpu
    preset's 8 steps of 32 give the 36-image Mammography subset 256 an epoch), cut at train.max_steps_per_epoch."""
    from .trainer import epoch_steps

    t = p.cfg.train
    return epoch_steps(max(1, _epoch_size(p, subset)), t.batch_images, t.min_steps_per_epoch, t.max_steps_per_epoch) * t.batch_images


def _pipeline(args, run: dict, overrides: list[str]):
    from .pipeline import STAGE_DISTILL, Pipeline

    p = Pipeline(os.path.join(args.runs, RUN_PREFIX + run["expert"]), datasets=run["datasets"], config=args.config,
                 overrides=overrides, seed=0, split_seed=0, subsets=run["subsets"], device=args.device, cache_dir=args.cache,
                 init_checkpoint=os.path.join(args.start, run["checkpoint"]), log=_log)
    if run["general"]:
        p.imported_stage = STAGE_DISTILL
    return p


def train(args) -> int:
    import torch

    from .config import apply_overrides, get_config
    from .select import run_selection
    from .subsets import parse_subsets

    start = read_start(args.start)
    with open(os.path.join(args.cache, "pack.json")) as f:
        datasets = json.load(f)["datasets_order"]
    overrides = ["train.daft.freeze_norm_stats=true", "train.finetune.freeze_norm_stats=true"] + list(args.overrides)
    cfg = apply_overrides(get_config(args.config), overrides)
    runs = [r for r in plan_runs(start, dataset_modalities(datasets, args.cache, cfg.train.target_rule)) if r["datasets"]]
    record = SessionRecord(args.runs, args, overrides, mode="continue")
    with open(os.path.join(args.runs, "continue.json"), "w") as f:
        json.dump(start, f, indent=1)

    # epoch sizes and selection sizes first (each run's data load onto the device once, kept for its training)
    pipelines, weights, val_sizes = [], [], {}
    for i, run in enumerate(runs):
        p = _pipeline(args, run, overrides)
        subset = GENERAL if run["general"] else parse_subsets(run["subsets"], p.metas)[0]
        pipelines.append((run, p, subset))
        weights.append(_images_per_epoch(p, subset) * (args.general_weight if run["general"] else 1.0))
        # a selection scores two models on the run's validation samples (all of its datasets')
        val_sizes[i] = float(p.store("val", val_cap=p.cfg.train.select_val_images_per_dataset).num_samples)
    budget = Budget(args.deadline, [(i, r["expert"], w) for i, (r, w) in enumerate(zip(runs, weights))],
                    args.select_seconds_per_sample, select_sizes=val_sizes)
    _log(f"[continue] {len(runs)} experts ({', '.join(r['expert'] for r in runs)}), "
         f"{(args.deadline - record.started) / 60:.1f} min to the deadline; {record.describe()}")
    for i, (run, p, subset) in enumerate(pipelines):
        entry = {"expert": run["expert"], "datasets": [os.path.basename(d) for d in run["datasets"]], "images_per_epoch": weights[i]}
        selected = False
        try:
            seconds = budget.start(i, run["expert"])
            entry["cap_minutes"] = round(seconds / 60.0, 3)
            if seconds < MIN_STAGE_SECONDS:
                entry["skipped"] = f"{seconds:.0f} s left"
                _log(f"[continue] {run['expert']}: skipped, only {seconds:.0f} s left")
                continue
            _log(f"[continue] {run['expert']}: cap {seconds / 60.0:.2f} min, {entry['images_per_epoch']:.0f} images per epoch")
            t0 = time.time()
            p.max_minutes = seconds / 60.0
            p.run_teacher()  # adopts the import (general stage; distill for the general expert)
            if run["general"]:
                p.run_distill()
                result = p.run_finetune()
            else:
                result = p.run_daft().get(subset.name)
            if result is not None:
                entry.update(best_epoch=result.best_epoch, epochs_run=result.epochs_run, stopped=result.stopped,
                             best_val_dsc=result.best_val_dsc)
            entry["minutes"] = round((time.time() - t0) / 60.0, 3)
            t1 = time.time()
            selection = run_selection(p)
            budget.selected(time.time() - t1, i)
            selected = True
            entry["selected"] = selection["subsets"][GENERAL.name if run["general"] else subset.name]["selected"]
            entry["select_minutes"] = round((time.time() - t1) / 60.0, 3)
        except Exception as exc:  # noqa: BLE001 - record, go on with the next expert, collect what finished
            record.problem(run["expert"], exc, "continue")
            traceback.print_exc()
        finally:
            if not selected:  # no selection ran: its reserve goes back to the experts still to train
                budget.no_selection(i)
            record.item(entry)
            pipelines[i] = (run, None, subset)
            del p
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
    record.finish("continue")
    return 0


# ---------------------------------------------------------------------------------------------- finish


def _put_back_start(run_dir: str, checkpoint: str, stage: str) -> None:
    """The adopted stage's best.pt (not collected: it is the import) from the local prepare folder."""
    from .export.onnx_import import FOLDED
    from .pipeline import load_checkpoint_object, state_dict_of
    from .trainer import save_atomic

    folder = os.path.join(run_dir, "stages", stage)
    state = state_dict_of(load_checkpoint_object(checkpoint, trusted=False), checkpoint)
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    save_atomic({"model": state, "stage": stage, "epoch": 0, "val_loss": float("nan"), "val_dsc": None, "encoder": "student",
                 "init_checkpoint": os.path.abspath(checkpoint), "norm_stats": FOLDED}, os.path.join(folder, "best.pt"))


def decide(run: dict, selection: dict, routed_to_general: list[str]) -> tuple[bool, str, float | None, float | None]:
    """(merge?, reason, start DSC, continued DSC) of one run's validation selection. A modality expert merges when
    its subset selected the DAFT stage; the general expert when the general subset selected the continued general
    stage and it is not worse on any modality the zoo routes to it."""
    subsets = selection["subsets"]
    if run["general"]:
        entry = subsets.get(GENERAL.name, {})
        start, cont = entry.get("scores", {}).get("distill"), entry.get("scores", {}).get("general")
        if entry.get("selected") != "general":
            return False, "the start validates better", start, cont
        worse = [m for m in routed_to_general if m in subsets and subsets[m].get("scores", {}).get("general", 0.0)
                 < subsets[m].get("scores", {}).get("distill", 0.0)]
        if worse:
            return False, f"better overall, worse on {', '.join(worse)} (routed to it)", start, cont
        return True, "better overall and on every modality routed to it", start, cont
    name = run["expert"]
    entry = subsets.get(name, {})
    start, cont = entry.get("scores", {}).get("general"), entry.get("scores", {}).get(f"daft/{name}")
    if entry.get("selected") == f"daft/{name}":
        return True, "the continuation validates better", start, cont
    return False, "the start validates better" if cont is not None else "not trained", start, cont


def finish(args) -> int:
    from .export.expert_export import export_run
    from .export.manifest import load_manifest
    from .export.merge import merge_experts
    from .gpu_session import restore
    from .pipeline import STAGE_DISTILL, STAGE_GENERAL, Pipeline
    from .select import load_selection
    from .trainer import read_done

    start = read_start(args.start)
    zoo = load_manifest(os.path.join(args.into, "manifest.json"))
    versions = {e["name"]: e["version"] for e in zoo["experts"]}
    for e in start["experts"]:
        if versions.get(e["name"]) != e["version"]:
            raise ValueError(f"{args.into}: expert {e['name']} is version {versions.get(e['name'])}, the continuation started "
                             f"from {e['version']} (prepare's zoo); merge into that zoo")
    restore(argparse.Namespace(source=args.source, runs=args.runs, cache=args.cache))
    runs_dir = os.path.abspath(args.runs)
    served = {m for e in zoo["experts"] if e["name"] != GENERAL.name for m in e["modalities"]}
    rows, merged = [], []
    for e in start["experts"]:
        run_dir = os.path.join(runs_dir, RUN_PREFIX + e["name"])
        general = e["name"] == GENERAL.name
        row = {"expert": e["name"], "version": e["version"], "merged": False}
        rows.append(row)
        if not os.path.exists(os.path.join(run_dir, "run.json")):
            row["reason"] = "no run (no data, or no time left)"
            continue
        start_stage = STAGE_DISTILL if general else STAGE_GENERAL
        if read_done(os.path.join(run_dir, "stages", start_stage)) is None:
            row["reason"] = "not trained (no time was left for it)"
            continue
        _put_back_start(run_dir, os.path.join(args.start, e["checkpoint"]), start_stage)
        trained = read_done(os.path.join(run_dir, "stages", *([STAGE_GENERAL] if general else ["daft", e["name"]])))
        if trained is not None:
            row.update(epochs=trained.epochs_run, best_epoch=trained.best_epoch, stopped=trained.stopped)
        try:
            selection = load_selection(run_dir)
        except ValueError as exc:
            row["reason"] = str(exc)
            continue
        routed = sorted(m for m in selection["subsets"] if m != GENERAL.name and m not in served)
        ok, reason, before, after = decide({"expert": e["name"], "general": general}, selection, routed)
        row.update(reason=reason, start_dsc=before, continued_dsc=after)
        if not ok:
            continue
        export_run(Pipeline(run_dir, cache_dir=args.cache, device="cpu", log=_log), os.path.join(run_dir, "models"),
                   verify=args.verify)
        merged.append((e["name"], os.path.join(run_dir, "models")))
        row["merged"] = True
    out = os.path.abspath(args.output)
    into = args.into
    for name, models in merged:
        merge_experts(into, models, [name], out, log=_log)
        into = out
    if not merged:
        _log(f"[continue] no continuation validated better; {out} not written")
    report = _report(rows, out if merged else None)
    with open(os.path.join(runs_dir, "continuation.md"), "w") as f:
        f.write(report)
    with open(os.path.join(runs_dir, "continuation.json"), "w") as f:
        json.dump({"rows": rows, "zoo": out if merged else None}, f, indent=1)
    print(report)
    return 0


def _report(rows: list[dict], zoo: str | None) -> str:
    def cell(v):
        return "" if v is None else f"{v:.4f}"

    lines = ["# Continuation of the shipped experts", "",
             "Validation DSC (seed 0's split, the pack's validation samples) of each shipped expert as it started and "
             "after the GPU continued it; merged = the continuation replaces it in the zoo.", "",
             "| expert | started from | start | continued | epochs (best) | merged | why |", "|---|---|---:|---:|---:|---|---|"]
    for r in rows:
        epochs = f"{r['epochs']} ({r['best_epoch']})" if "epochs" in r else ""
        lines.append(f"| {r['expert']} | {r['version']} | {cell(r.get('start_dsc'))} | {cell(r.get('continued_dsc'))} | {epochs} | "
                     f"{'yes' if r['merged'] else 'no'} | {r.get('reason', '')} |")
    lines += ["", f"Zoo with the merged experts: {zoo}" if zoo else "Nothing merged: the zoo stays as it is.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m daft_train.continuation", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    pr = sub.add_parser("prepare")
    pr.add_argument("--models", required=True, help="the zoo to continue (e.g. models)")
    pr.add_argument("--out", required=True, help="folder for the checkpoints and continue.json (replaced)")
    pr.add_argument("--config", default="cpu", help="preset whose student the experts are (default cpu: the shipped zoo's)")
    pr.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    t = add_train_arguments(sub, "cont-<expert>")
    t.add_argument("--start", required=True, help="the prepare folder (continue.json + checkpoints)")
    t.add_argument("--select-seconds-per-sample", type=float, default=0.03,
                   help="time reserved per validation sample of a selection still to run, until one was measured (the "
                        "H200 of session 16: a validation pass of one model 4.55 s over 520 samples, i.e. ~0.009)")
    t.add_argument("--general-weight", type=float, default=1.0, help="factor on the general expert's share of the time")
    f = sub.add_parser("finish")
    f.add_argument("--from", dest="source", required=True, help="folder with results.tar.gz and checkpoints.tar.part-*")
    f.add_argument("--start", required=True, help="the prepare folder the GPU run started from")
    f.add_argument("--runs", required=True, help="where the run folders go")
    f.add_argument("--cache", required=True, help="local cache root (e.g. training/runs/cpu/cache)")
    f.add_argument("--into", required=True, help="the zoo the continuation started from (e.g. models)")
    f.add_argument("-o", "--output", required=True, help="the zoo with the merged experts (written only if one merges)")
    f.add_argument("--no-verify", dest="verify", action="store_false", help="export without the onnxruntime-node comparison")
    args = parser.parse_args(argv)
    try:
        if args.command == "prepare":
            prepare(args.models, args.out, args.config, args.overrides)
            return 0
        return {"train": train, "finish": finish}[args.command](args)
    except (ValueError, OSError) as exc:
        print(f"continuation: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
