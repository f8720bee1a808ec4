"""Command line: ``python -m daft_train <command> ...`` (see training/README.md)."""

from __future__ import annotations

import argparse
import sys
import time

STAGE_COMMANDS = ("run", "teacher", "distill", "finetune", "daft", "select", "export", "cache")


def _log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="run folder (created on first use; re-running resumes)")
    p.add_argument("--datasets", nargs="+", help="dataset folders (dataset.json layout or challenge .npz files)")
    p.add_argument("--config", choices=["tiny", "cpu", "gpu"], help="preset (default gpu for a new run)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field, e.g. train.finetune.lr=1e-4 (repeatable)")
    p.add_argument("--subsets", help="'modality' (default), modality groups like 'CT+MR+PET,Microscopy', or FILE.json")
    p.add_argument("--seed", type=int, help="validation split seed and initialisation seed (default 0)")
    p.add_argument("--max-minutes-per-stage", type=float, default=0.0, help="wall-time cap per stage (0 = none)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--cache-dir", help="where preprocessed datasets are cached (default RUN_DIR/cache)")
    p.add_argument("--init-checkpoint", help="start from this checkpoint (teacher- or student-shaped) instead of training the teacher")
    p.add_argument("--base-run", help="new run folder only: take config, datasets, seed, cache and the finished teacher/"
                                      "distill/general stages from this run; train only DAFT (e.g. other --subsets)")
    p.add_argument("--workers", type=int, default=0, help="processes for building the cache (default: up to 8)")
    p.add_argument("--models-dir", help="export: output folder (default RUN_DIR/models)")
    p.add_argument("--no-verify", action="store_true", help="export: skip the onnxruntime-node comparison")
    p.add_argument("--policy", choices=["selected", "daft", "general"], default="selected",
                   help="export: the validation-selected stage per subset (default), every subset's DAFT model, "
                        "or the general model alone")
    p.add_argument("--selector", help="export: a learned selector JSON (daft selector train) to ship beside the experts")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m daft_train", description="DAFT training: teacher → distill → general → DAFT → select → export")
    sub = parser.add_subparsers(dest="command", required=True)
    helps = {
        "run": "all stages, then selection and export (resumes where a previous run stopped)",
        "teacher": "stage 1a: train the teacher (or adopt --init-checkpoint)",
        "distill": "stage 1b: distil the teacher encoder into the student (prompt encoder + decoder copied)",
        "finetune": "stage 2: general fine-tuning of the student on all data (prompt encoder frozen)",
        "daft": "stage 3: one fine-tuned copy per subset",
        "select": "evaluate every stage on every subset's validation split and pick the best",
        "export": "export selected experts to ONNX + models/manifest.json",
        "cache": "only preprocess the datasets into the cache",
    }
    for name in STAGE_COMMANDS:
        _add_common(sub.add_parser(name, help=helps[name]))
    bench = sub.add_parser("bench", help="parameters, MACs and onnxruntime-node CPU timings of a config's models")
    bench.add_argument("--config", choices=["tiny", "cpu", "gpu"], default="gpu")
    bench.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    bench.add_argument("--checkpoint", help="weights to load into the student (default: random init)")
    bench.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads")
    bench.add_argument("--boxes", type=int, nargs="+", default=[1, 10, 100])
    bench.add_argument("--repeat", type=int, default=10)
    return parser


def _pipeline(args):
    from .pipeline import Pipeline

    return Pipeline(
        args.out, datasets=args.datasets, config=args.config, overrides=args.overrides, seed=args.seed, subsets=args.subsets,
        device=args.device, max_minutes_per_stage=args.max_minutes_per_stage, cache_dir=args.cache_dir,
        init_checkpoint=args.init_checkpoint, workers=args.workers, base_run=args.base_run, log=_log,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .data.reader import DatasetError

    try:
        if args.command == "bench":
            from .bench import run_bench

            run_bench(args.config, args.overrides, args.checkpoint, args.threads, args.boxes, args.repeat, log=print)
            return 0
        p = _pipeline(args)
        if args.command == "run":
            p.run_all(args.models_dir, verify=not args.no_verify)
        elif args.command == "cache":
            _ = p.cache_dirs
        elif args.command == "teacher":
            p.run_teacher()
        elif args.command == "distill":
            p.run_distill()
        elif args.command == "finetune":
            p.run_finetune()
        elif args.command == "daft":
            p.run_daft()
        elif args.command == "select":
            from .select import run_selection

            run_selection(p)
        elif args.command == "export":
            from .export.expert_export import export_run

            if p.runtime.is_main:
                export_run(p, args.models_dir, verify=not args.no_verify, policy=args.policy, selector=args.selector)
        return 0
    except (DatasetError, ValueError, RuntimeError, FileNotFoundError) as exc:
        message = " ".join(str(exc).split())
        print(f"daft_train: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("daft_train: interrupted; re-run the same command to resume from the last finished epoch", file=sys.stderr)
        return 130
