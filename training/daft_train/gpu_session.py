"""One GPU session within a wall-clock deadline (scripts/gpu_run.sh runs it; see training/GPU.md).

  train    seed 0: teacher → distill → general → DAFT → select; seeds 1..N-1: general → DAFT → select, started from
           seed 0's distilled student on seed 0's validation split (--split-seed 0): the DAFT-vs-general comparison
           over training seeds. Each stage's time cap is its weight's share of the time left before the deadline
           (minus the selections still to run); DAFT subsets share the DAFT time by their epoch sizes. A stage that
           reaches its cap finishes the epoch in progress, validates it and keeps its best epoch.
  collect  $OUT/results.tar.gz (run.json, selection, metrics, loss curves, done.json of every run, session.json,
           pack.json) and the best.pt of the general, DAFT and selected distill stages in
           $OUT/checkpoints.tar.part-NN, within the device tool's limits (8 files, 16 MiB each, 64 MiB together):
           float32 when everything fits, else float16; what still does not fit is left out last-seed-first and listed.
  restore  (on the development machine) unpack those files into run folders whose cache/ links to a local cache.

python -m daft_train.gpu_session train --cache CACHE --runs RUNS --deadline EPOCH_S [--config gpu] [--device cuda]
                                       [--seeds 3] [--set KEY=VALUE ...]
python -m daft_train.gpu_session collect --runs RUNS --out OUT [--pack-index CACHE/pack.json] [--reserve-mib 2]
python -m daft_train.gpu_session restore --from DIR --runs training/runs --cache training/runs/cpu/cache
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import shutil
import sys
import tarfile
import time
import traceback

# Time weights of the training items (shares of the time left when each starts); every seed's general and DAFT
# stages weigh the same, so that the seeds are comparable
SEED0_WEIGHTS = {"teacher": 3.0, "distill": 1.5, "general": 1.5, "daft": 2.0}
SEED_WEIGHTS = {"general": 1.5, "daft": 2.0}
MIN_STAGE_SECONDS = 15.0  # an item with less time than this left is skipped
DAFT_OVERHEAD_SECONDS = 3.0  # first guess of a DAFT subset's time beyond its cap; then measured
FILE_LIMIT = 8
PART_BYTES = int(15.5 * 2**20)
TOTAL_LIMIT = 64 * 2**20
RESULT_FILES = ("run.json", "selection.json", "selection.csv", "selection.md", "metrics.jsonl", "loss_curve.png", "done.json")
ROOT_FILES = ("session.json", "continue.json")  # of the runs folder itself


def _log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


def run_name(seed: int) -> str:
    return f"gpu-seed{seed}"


# ---------------------------------------------------------------------------------------------- train


class Budget:
    """Stage caps from the time left: an item gets (deadline − now − selection reserve) × its weight / the weights
    of the items still to run; DAFT subsets split their item's cap by epoch size. The reserve is the selections still
    to run (one per seed) × their size (``select_sizes``, e.g. validation samples; default 1 each) × the seconds per
    unit of size: ``select_seconds`` at first, then measured."""

    def __init__(self, deadline: float, items: list[tuple[int, str, float]], select_seconds: float, clock=time.time,
                 select_sizes: dict[int, float] | None = None):
        self.deadline = deadline
        self.pending = list(items)  # (seed, item, weight)
        self.select_seconds = select_seconds
        self.select_sizes = dict(select_sizes) if select_sizes is not None else {seed: 1.0 for seed, _, _ in items}
        self.clock = clock

    @property
    def selects_left(self) -> int:
        return len(self.select_sizes)

    def left(self) -> float:
        return self.deadline - self.clock() - self.select_seconds * sum(self.select_sizes.values())

    def start(self, seed: int, item: str) -> float:
        """Seconds for this item (removed from the pending list)."""
        total = sum(w for _, _, w in self.pending)
        weight = next(w for s, i, w in self.pending if (s, i) == (seed, item))
        self.pending = [p for p in self.pending if (p[0], p[1]) != (seed, item)]
        return max(0.0, self.left()) * weight / total if total > 0 else 0.0

    def selected(self, seconds_taken: float, seed: int | None = None) -> None:
        """A selection (of ``seed``; default the next one) finished: later ones are assumed to take as long per unit."""
        if not self.select_sizes:
            return
        size = self.select_sizes.pop(next(iter(self.select_sizes)) if seed is None else seed, 1.0)
        self.select_seconds = max(self.select_seconds * 0.5, seconds_taken / max(size, 1e-9))

    def no_selection(self, seed: int) -> None:
        """``seed``'s selection will not run: its reserve goes back to the items still to run."""
        self.select_sizes.pop(seed, None)


class SessionRecord:
    """``session.json`` in the runs folder: the session's settings, one entry per item, the problems, saved after
    every item (a session stopped by the deadline still leaves what it did)."""

    def __init__(self, runs: str, args, overrides: list[str], **extra):
        import torch

        self.started = time.time()
        self.path = os.path.join(runs, "session.json")
        self.data = {**extra, "started": self.started, "deadline": args.deadline, "config": args.config,
                     "overrides": list(overrides), "device": args.device, "torch": torch.__version__, "items": [], "errors": []}
        if torch.cuda.is_available():
            self.data["gpu"] = torch.cuda.get_device_name(0)
            self.data["bf16"] = bool(torch.cuda.is_bf16_supported())
        os.makedirs(runs, exist_ok=True)

    def describe(self) -> str:
        return f"torch {self.data['torch']}, device {self.data['device']}" + (f", {self.data['gpu']}" if "gpu" in self.data else "")

    def item(self, entry: dict) -> None:
        self.data["items"].append(entry)
        self.save()

    def problem(self, label: str, exc: BaseException, tag: str) -> None:
        self.data["errors"].append(f"{label}: {type(exc).__name__}: {exc}")
        _log(f"[{tag}] {label}: stopped: {type(exc).__name__}: {exc}")
        self.save()

    def save(self) -> None:
        with open(self.path, "w") as f:
            json.dump(self.data, f, indent=1)

    def finish(self, tag: str) -> None:
        self.data["minutes"] = round((time.time() - self.started) / 60.0, 3)
        self.save()
        errors = self.data["errors"]
        _log(f"[{tag}] done in {self.data['minutes']:.2f} min; {len(errors)} problem(s): {errors}")


def _epoch_size(p, subset) -> int:
    store = p.store("train", subset)
    return len(store.entries_2d) + (store.num_samples if store.only_3d else len(store.volumes))


def _budgeted_daft(p, seconds: float, record: dict, log) -> None:
    """p.run_daft() with each subset's cap = the DAFT time still unused × its share of the epoch sizes left."""
    from .subsets import GENERAL

    sizes = {s.name: _epoch_size(p, s) for s in p.subsets() if p.store("val", s).num_samples > 0}  # those that train
    started = time.time()
    original = p.train
    overshoot = [DAFT_OVERHEAD_SECONDS]  # per subset beyond its cap (loading, the last epoch's validation)

    def train(name, out_dir, model, stage_cfg, subset=GENERAL, **kwargs):
        left = {n: sizes[n] for n in sizes if n not in record["daft_caps"]}
        share = sizes[subset.name] / max(1, sum(left.values()))
        reserve = overshoot[0] * len(left)  # so that the last subsets are not starved by the first ones' overruns
        cap = max(0.0, seconds - (time.time() - started) - reserve) * share
        record["daft_caps"][subset.name] = round(cap / 60.0, 3)
        p.max_minutes = max(cap, 1.0) / 60.0
        log(f"[session] {name}: cap {cap / 60.0:.2f} min ({sizes[subset.name]} entries per epoch)")
        t0 = time.time()
        try:
            return original(name, out_dir, model, stage_cfg, subset, **kwargs)
        finally:
            overshoot[0] = 0.5 * overshoot[0] + 0.5 * max(0.0, time.time() - t0 - max(cap, 1.0))

    p.train = train
    try:
        p.run_daft()
    finally:
        p.train = original


def train(args) -> int:
    import torch

    from .pipeline import STAGE_DISTILL, STAGE_GENERAL, Pipeline
    from .select import run_selection
    from .trainer import read_done

    with open(os.path.join(args.cache, "pack.json")) as f:
        datasets = json.load(f)["datasets_order"]
    seeds = list(range(max(1, args.seeds)))
    items = [(0, name, w) for name, w in SEED0_WEIGHTS.items()] + [(s, name, w) for s in seeds[1:] for name, w in SEED_WEIGHTS.items()]
    budget = Budget(args.deadline, items, args.select_seconds)
    record = SessionRecord(args.runs, args, args.overrides, seeds=seeds)
    _log(f"[session] {len(datasets)} datasets, seeds {seeds}, {(args.deadline - record.started) / 60:.1f} min to the deadline; "
         f"{record.describe()}")

    distilled = os.path.join(args.runs, run_name(0), "stages", STAGE_DISTILL, "best.pt")
    for seed in seeds:
        if seed > 0 and read_done(os.path.dirname(distilled)) is None:
            record.data["errors"].append(f"seed {seed}: skipped, seed 0 has no distilled student")
            break
        p = None
        try:
            p = Pipeline(os.path.join(args.runs, run_name(seed)), datasets=datasets, config=args.config, overrides=args.overrides,
                         seed=seed, split_seed=0, device=args.device, cache_dir=args.cache,
                         init_checkpoint=distilled if seed > 0 else None, log=_log)
            steps = [("teacher", p.run_teacher), ("distill", p.run_distill)] if seed == 0 else [("adopt", p.run_teacher)]
            steps += [("general", p.run_finetune), ("daft", None)]
            for item, run in steps:
                t0 = time.time()
                entry = {"seed": seed, "item": item}
                if item == "adopt":  # seed 0's distilled student becomes this run's distill stage
                    run()
                    continue
                seconds = budget.start(seed, item)
                entry["cap_minutes"] = round(seconds / 60.0, 3)
                if seconds < MIN_STAGE_SECONDS:
                    entry["skipped"] = f"{seconds:.0f} s left"
                    record.item(entry)
                    _log(f"[session] seed {seed} {item}: skipped, only {seconds:.0f} s left")
                    raise TimeoutError(f"seed {seed}: no time left for {item}")
                _log(f"[session] seed {seed} {item}: cap {seconds / 60.0:.2f} min")
                if item == "daft":
                    entry["daft_caps"] = {}
                    _budgeted_daft(p, seconds, entry, _log)
                else:
                    p.max_minutes = seconds / 60.0
                    result = run()
                    if result is not None:
                        entry.update(best_epoch=result.best_epoch, epochs_run=result.epochs_run, stopped=result.stopped,
                                     best_val_dsc=result.best_val_dsc)
                entry["minutes"] = round((time.time() - t0) / 60.0, 3)
                record.item(entry)
        except Exception as exc:  # noqa: BLE001 - record, then select and collect what finished
            record.problem(f"seed {seed}", exc, "session")
            if not isinstance(exc, TimeoutError):
                traceback.print_exc()
        trained = p is not None and (read_done(p.stage_dir(STAGE_GENERAL)) is not None
                                     or (seed == 0 and read_done(p.stage_dir(STAGE_DISTILL)) is not None))
        if trained:  # a later seed without its own general stage has nothing to compare
            t0 = time.time()
            try:
                run_selection(p)
            except Exception as exc:  # noqa: BLE001
                record.problem(f"seed {seed} select", exc, "session")
                traceback.print_exc()
            budget.selected(time.time() - t0)
            record.item({"seed": seed, "item": "select", "minutes": round((time.time() - t0) / 60.0, 3)})
        del p
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    record.finish("session")
    return 0


# ---------------------------------------------------------------------------------------------- collect


def _checkpoint_candidates(runs: str) -> list[str]:
    """best.pt paths (relative to runs) in priority order: per seed (seed 0 first) general and the DAFT subsets,
    then seed 0's distilled student (the later seeds' starting point: restore copies it back into them; needed
    only where the selection chose it, or to re-run a selection)."""
    out = []
    seeds = sorted(int(n[len("gpu-seed"):]) for n in os.listdir(runs) if n.startswith("gpu-seed") and n[len("gpu-seed"):].isdigit())
    for seed in seeds:
        run = run_name(seed)
        daft = os.path.join(runs, run, "stages", "daft")
        stages = ["general"] + ([f"daft/{n}" for n in sorted(os.listdir(daft))] if os.path.isdir(daft) else [])
        out += [os.path.join(run, "stages", stage, "best.pt") for stage in stages]
    out.append(os.path.join(run_name(0), "stages", "distill", "best.pt"))
    # other run folders (continuation.py's cont-<expert>): the stages trained there, not the adopted starting points
    for run in sorted(n for n in os.listdir(runs) if not n.startswith("gpu-seed") and _is_run(os.path.join(runs, n))):
        for root, _, files in sorted(os.walk(os.path.join(runs, run, "stages"))):
            done = os.path.join(root, "done.json")
            if "best.pt" in files and os.path.exists(done) and not _adopted(done):
                out.append(os.path.relpath(os.path.join(root, "best.pt"), runs))
    return [rel for rel in out if os.path.exists(os.path.join(runs, os.path.dirname(rel), "done.json"))
            and os.path.exists(os.path.join(runs, rel))]


def _is_run(folder: str) -> bool:
    return os.path.isfile(os.path.join(folder, "run.json"))


def _adopted(done_json: str) -> bool:
    """A stage that was not trained but adopted from --init-checkpoint (its best.pt is the starting checkpoint)."""
    try:
        with open(done_json) as f:
            return str(json.load(f).get("stopped", "")).startswith("from --init-checkpoint")
    except (OSError, json.JSONDecodeError):
        return False


def _stripped(path: str, half: bool) -> bytes:
    import torch

    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    state = ckpt["model"] if isinstance(ckpt, dict) and "model" in ckpt else ckpt
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    keep = {k: ckpt[k] for k in ("stage", "epoch", "val_loss", "val_dsc", "encoder") if isinstance(ckpt, dict) and k in ckpt}
    buf = io.BytesIO()
    torch.save({"model": state, **keep, "weights": "float16" if half else "float32"}, buf)
    return buf.getvalue()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    tar.addfile(info, io.BytesIO(data))


def collect(args) -> int:
    runs, out = os.path.abspath(args.runs), os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    results = os.path.join(out, "results.tar.gz")
    with tarfile.open(results, "w:gz") as tar:
        for root, _, files in os.walk(runs):
            for name in sorted(files):
                if name in RESULT_FILES or (root == runs and name in ROOT_FILES):
                    path = os.path.join(root, name)
                    tar.add(path, arcname=os.path.relpath(path, runs))
        if args.pack_index and os.path.exists(args.pack_index):
            tar.add(args.pack_index, arcname="pack.json")
    others = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out) if os.path.isfile(os.path.join(out, f)))
    budget = min(TOTAL_LIMIT - others - int(args.reserve_mib * 2**20), (FILE_LIMIT - len(os.listdir(out))) * PART_BYTES)
    candidates = _checkpoint_candidates(runs)
    full = {rel: _stripped(os.path.join(runs, rel), half=False) for rel in candidates}
    half = sum(len(b) for b in full.values()) > budget - 64 * 1024
    chosen = {rel: (_stripped(os.path.join(runs, rel), half=True) if half else data) for rel, data in full.items()}
    included, left_out, size = [], [], 0
    for rel in candidates:
        if size + len(chosen[rel]) + 1024 <= budget - 64 * 1024:
            included.append(rel)
            size += len(chosen[rel]) + 1024
        else:
            left_out.append(rel)
    record = {"weights": "float16" if half else "float32", "included": included, "left_out": left_out, "budget_bytes": budget}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        _add_bytes(tar, "checkpoints.json", json.dumps(record, indent=1).encode())
        for rel in included:
            _add_bytes(tar, rel, chosen[rel])
    data = buf.getvalue()
    for i in range(0, len(data), PART_BYTES):
        with open(os.path.join(out, f"checkpoints.tar.part-{i // PART_BYTES:02d}"), "wb") as f:
            f.write(data[i : i + PART_BYTES])
    _log(f"[collect] {results} {os.path.getsize(results) / 2**20:.2f} MiB; {len(included)} checkpoints ({record['weights']}) "
         f"{len(data) / 2**20:.2f} MiB in {math.ceil(len(data) / PART_BYTES)} part(s)"
         + (f"; LEFT OUT (over the {budget / 2**20:.1f} MiB left): {', '.join(left_out)}" if left_out else ""))
    return 0


# ---------------------------------------------------------------------------------------------- restore


_DATA_FILTER = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # Python >= 3.12 (and patched 3.8+)


def _safe_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    members = tar.getmembers()
    for m in members:
        if m.name.startswith("/") or ".." in m.name.split("/") or not (m.isfile() or m.isdir()):
            raise ValueError(f"{tar.name or 'archive'}: unsafe member {m.name!r}")
    return members


def restore(args) -> int:
    src, runs = os.path.abspath(args.source), os.path.abspath(args.runs)
    results = os.path.join(src, "results.tar.gz")
    if not os.path.exists(results):
        raise ValueError(f"{results}: not found (the files the GPU run left in $OUT)")
    parts = sorted(f for f in os.listdir(src) if f.startswith("checkpoints.tar.part-"))
    os.makedirs(runs, exist_ok=True)
    with tarfile.open(results, "r:gz") as tar:
        tar.extractall(runs, members=_safe_members(tar), **_DATA_FILTER)
    record = {}
    if parts:
        data = b""
        for part in parts:
            with open(os.path.join(src, part), "rb") as f:
                data += f.read()
        with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
            tar.extractall(runs, members=_safe_members(tar), **_DATA_FILTER)
        with open(os.path.join(runs, "checkpoints.json")) as f:
            record = json.load(f)
    restored = sorted(n for n in os.listdir(runs) if _is_run(os.path.join(runs, n)))
    cache = os.path.abspath(args.cache)
    distilled = os.path.join(runs, run_name(0), "stages", "distill", "best.pt")
    for name in restored:
        adopted = os.path.join(runs, name, "stages", "distill")
        if name.startswith("gpu-seed") and os.path.exists(os.path.join(adopted, "done.json")) and not os.path.exists(os.path.join(adopted, "best.pt")) \
                and os.path.exists(distilled):
            shutil.copyfile(distilled, os.path.join(adopted, "best.pt"))  # the --init-checkpoint it started from
        link = os.path.join(runs, name, "cache")
        if not os.path.lexists(link):
            os.symlink(os.path.relpath(cache, os.path.join(runs, name)), link)  # export/select find the local cache
    _log(f"[restore] {', '.join(restored)} in {runs}: {len(record.get('included', []))} checkpoints ({record.get('weights', 'none')})"
         + (f"; left out on the GPU machine: {', '.join(record['left_out'])}" if record.get("left_out") else "")
         + f"; cache -> {cache}")
    return 0


def add_train_arguments(sub, run_folders: str) -> argparse.ArgumentParser:
    """The ``train`` command's arguments that this module and continuation.py share."""
    t = sub.add_parser("train")
    t.add_argument("--cache", required=True, help="unpacked cache root (holds pack.json)")
    t.add_argument("--runs", required=True, help=f"folder for the run folders {run_folders}")
    t.add_argument("--deadline", type=float, required=True, help="Unix time by which training and selection must end")
    t.add_argument("--config", default="gpu", choices=["tiny", "cpu", "gpu"])
    t.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    t.add_argument("--device", default="cuda", choices=["auto", "cpu", "cuda"])
    return t


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m daft_train.gpu_session", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = add_train_arguments(sub, "gpu-seed0, gpu-seed1, ...")
    t.add_argument("--seeds", type=int, default=3, help="training seeds (seed 0 runs every stage; others general + DAFT)")
    t.add_argument("--select-seconds", type=float, default=45.0, help="time reserved per selection until one was measured")
    c = sub.add_parser("collect")
    c.add_argument("--runs", required=True)
    c.add_argument("--out", required=True)
    c.add_argument("--pack-index", help="pack.json to include")
    c.add_argument("--reserve-mib", type=float, default=1.0, help="room kept for the log that is still being written")
    r = sub.add_parser("restore")
    r.add_argument("--from", dest="source", required=True, help="folder with results.tar.gz and checkpoints.tar.part-*")
    r.add_argument("--runs", required=True, help="where the run folders go (e.g. training/runs)")
    r.add_argument("--cache", required=True, help="local cache root the restored runs use (e.g. training/runs/cpu/cache)")
    args = parser.parse_args(argv)
    try:
        return {"train": train, "collect": collect, "restore": restore}[args.command](args)
    except (ValueError, OSError) as exc:
        print(f"gpu_session: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
