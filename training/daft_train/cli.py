"""Command line: ``python -m daft_train <command> ...`` (see training/README.md)."""

from __future__ import annotations

import argparse
import sys
import time

from .export.manifest import DEFAULT_TEST_TIME_MIRRORING, TEST_TIME_MIRRORINGS  # plain Python, no torch

STAGE_COMMANDS = ("run", "teacher", "distill", "finetune", "daft", "select", "export", "cache", "norm-statistics")


def _log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="run folder (created on first use; re-running resumes)")
    p.add_argument("--datasets", nargs="+", help="dataset folders (dataset.json layout or challenge .npz files)")
    p.add_argument("--config", choices=["tiny", "cpu", "gpu"], help="preset (default gpu for a new run)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field, e.g. train.finetune.lr=1e-4 (repeatable)")
    p.add_argument("--subsets", help="'modality' (default), modality groups like 'CT+MR+PET,Microscopy', or FILE.json")
    p.add_argument("--seed", type=int, help="validation split seed and initialisation seed (default 0); with "
                                           "--base-run: the seed of the stages this run trains (the split stays "
                                           "the base run's)")
    p.add_argument("--split-seed", type=int, help="validation split seed when it differs from --seed (e.g. several training "
                                                  "seeds on one split)")
    p.add_argument("--max-minutes-per-stage", type=float, default=0.0, help="wall-time cap per stage (0 = none)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--cache-dir", help="where preprocessed datasets are cached (default RUN_DIR/cache)")
    p.add_argument("--init-checkpoint", help="start from this checkpoint: teacher-shaped replaces the teacher stage, "
                                             "student-shaped the distillation, one from import-onnx (a shipped "
                                             "expert) the general stage, so only DAFT trains")
    p.add_argument("--base-run", help="new run folder only: take config, datasets, seed, cache and the finished teacher/"
                                      "distill/general stages from this run; train only DAFT (e.g. other --subsets)")
    p.add_argument("--workers", type=int, default=0, help="processes for building the cache (default: up to 8)")
    p.add_argument("--models-dir", help="export: output folder (default RUN_DIR/models)")
    p.add_argument("--no-verify", action="store_true", help="export: skip the onnxruntime-node comparison")
    p.add_argument("--policy", choices=["selected", "daft", "general"], default="selected",
                   help="export: the validation-selected stage per subset (default), every subset's DAFT model, "
                        "or the general model alone")
    p.add_argument("--selector", help="export: a learned selector JSON (daft selector train) to ship beside the experts")
    p.add_argument("--mirroring", choices=TEST_TIME_MIRRORINGS, default=DEFAULT_TEST_TIME_MIRRORING,
                   help="export: the engine's default test-time mirroring for every expert (default xy: 4 passes)")


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
        "norm-statistics": "diagnosis: each DAFT expert scored with its own and the general model's BatchNorm "
                           "statistics (writes norm_statistics.md)",
    }
    for name in STAGE_COMMANDS:
        _add_common(sub.add_parser(name, help=helps[name]))
    bench = sub.add_parser("bench", help="parameters, MACs and onnxruntime-node CPU timings of a config's models")
    bench.add_argument("--config", choices=["tiny", "cpu", "gpu"], default="gpu")
    bench.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    bench.add_argument("--checkpoint", help="weights to load into the student (default: random init)")
    bench.add_argument(
        "--threads",
        type=int,
        default=1,
        help="onnxruntime intra-op threads (default 1: how `daft segment` runs each session, sessions side by side)",
    )
    bench.add_argument("--boxes", type=int, nargs="+", default=[1, 10, 100])
    bench.add_argument("--repeat", type=int, default=10)
    bt = sub.add_parser("bench-train", help="where a training step's time goes: batch assembly, model step, validation")
    bt.add_argument("--cache", required=True, help="an unpacked GPU pack (with pack.json) or, with --datasets, a run's cache root")
    bt.add_argument("--datasets", nargs="+", help="dataset folders whose caches are in --cache (default: pack.json's)")
    bt.add_argument("--config", choices=["tiny", "cpu", "gpu"], default="gpu")
    bt.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    bt.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    bt.add_argument("--steps", type=int, default=20, help="timed repetitions of each part")
    bt.add_argument("--warmup", type=int, default=5, help="untimed repetitions before each part")
    bt.add_argument("--no-teacher", action="store_true", help="skip the teacher's step")
    bt.add_argument("--no-validation", action="store_true", help="skip the validation pass")
    bt.add_argument("--profile-steps", type=int, default=0, help="also profile this many trainer steps (operator table)")
    bt.add_argument("--json", help="write the report here (atomically)")
    pack = sub.add_parser("pack", help="pack a run's training cache (train + val samples) into a small folder for a GPU machine")
    pack.add_argument("--out", required=True, help="the run folder whose cache is packed (its run.json names the datasets)")
    pack.add_argument("--cache-dir", help="the run's cache root if not RUN_DIR/cache")
    pack.add_argument("--pack", required=True, help="output folder (replaced)")
    pack.add_argument("--max-mib", default="auto", help="size budget in MiB; 'auto' (default) = 64 MiB − the git tree − 1 MiB; 'none'")
    pack.add_argument("--beside", action="append", default=[], metavar="DIR",
                      help="an ignored folder carried with the pack (e.g. the continuation's gpu-continue): 'auto' counts it")
    pack.add_argument("--lossy", default="default", help="datasets whose images are JPEG: NAME[=QUALITY],... | all | none | default "
                                                        "(the RGB photographs kvasir-seg, ph2-dermoscopy, drishti-gs-optic)")
    pack.add_argument("--quality", type=int, default=92, help="JPEG quality of --lossy datasets without their own (>= 92)")
    pack.add_argument("--slice-step", action="append", default=[], metavar="NAME=K",
                      help="keep every K-th slice of the training volumes of a 3D dataset (repeatable)")
    pack.add_argument("--train-fraction", action="append", default=[], metavar="NAME=F",
                      help="keep a hash-chosen share F of the training cases of a 2D dataset (repeatable)")
    pack.add_argument("--val-cap", type=int, help="validation samples per dataset (default: the gpu config's max_val_images_per_dataset)")
    pack.add_argument("--zoom-below", type=float, help="keep originals of samples with an object below this long side at 256 "
                                                       "(default: the gpu config's train.zoom_small_side)")
    pack.add_argument("--no-val-originals", dest="val_originals", action="store_false",
                      help="leave out the originals of validation samples (then small objects are validated on the "
                           "whole image, not on zoom tiles as the engine segments them)")
    pack.add_argument("--split-seed", type=int, help="validation split seed (default: the run's)")
    pack.add_argument("--workers", type=int, default=2, help="encoding threads")
    imp = sub.add_parser("import-onnx", help="recover a trainable checkpoint from an exported expert (models/ folder), "
                                             "to fine-tune it on other data with --init-checkpoint")
    imp.add_argument("--models", required=True, help="models folder with manifest.json (e.g. the shipped models/)")
    imp.add_argument("--expert", default="general", help="expert name in the manifest (default general)")
    imp.add_argument("-o", "--output", required=True, help="checkpoint file to write (.pt)")
    imp.add_argument("--config", choices=["tiny", "cpu", "gpu"], help="the preset the expert was trained with (default: "
                                                                      "the first preset whose student matches)")
    imp.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    imp.add_argument("--no-verify", action="store_true", help="skip the PyTorch vs onnxruntime-node comparison")
    merge = sub.add_parser("merge-experts", help="put experts of one models folder into another (replacing those of "
                                                 "the same name), e.g. a fine-tuned expert into a copy of the shipped zoo")
    merge.add_argument("--into", required=True, help="the models folder to merge into (e.g. models)")
    merge.add_argument("--from", dest="source", required=True, help="the models folder the experts come from")
    merge.add_argument("--experts", required=True, help="comma-separated expert names of --from")
    merge.add_argument("-o", "--output", help="write the merged zoo here (default: replace --into)")
    opt = sub.add_parser("optimize-graphs", help="rewrite a models folder's ONNX graphs for onnxruntime (static shape "
                                                 "arithmetic folded, channel means as convolutions): faster, the same "
                                                 "outputs, checked before writing")
    opt.add_argument("--models", required=True, help="models folder with manifest.json (e.g. the shipped models/)")
    opt.add_argument("-o", "--output", help="write the optimized zoo here (default: replace --models)")
    opt.add_argument("--no-verify", action="store_true", help="skip the onnxruntime-node check of identical outputs")
    unpack = sub.add_parser("unpack", help="rebuild cache folders from a pack (for --cache-dir of a run)")
    unpack.add_argument("--pack", required=True, help="the pack folder")
    unpack.add_argument("--cache", required=True, help="cache root to write into (then: run --cache-dir CACHE)")
    unpack.add_argument("--workers", type=int, default=4, help="decoding threads")
    unpack.add_argument("--compare-run", help="then evaluate this run's general model on the validation samples of the unpacked "
                                              "caches and of the run's own caches, per dataset (packed-vs-original check)")
    return parser


def _pack_policy(args, log):
    import json
    import os

    from .config import get_config
    from .data.pack import DEFAULT_LOSSY, PackPolicy

    gpu = get_config("gpu").train
    with open(os.path.join(args.out, "run.json")) as f:
        run = json.load(f)
    lossy: dict[str, int] = {}
    if args.lossy == "default":
        lossy = {n: args.quality for n in DEFAULT_LOSSY}  # those the run does not have are ignored
    elif args.lossy == "all":
        lossy = {"*": args.quality}
    elif args.lossy != "none":
        for item in args.lossy.split(","):
            name, _, q = item.strip().partition("=")
            lossy[name] = int(q) if q else args.quality
    steps = {}
    for item in args.slice_step:
        name, sep, k = item.partition("=")
        if not sep or not k.strip().isdigit():
            raise ValueError(f"--slice-step expects NAME=K, got {item!r}")
        steps[name] = int(k)
    fractions = {}
    for item in args.train_fraction:
        name, sep, share = item.partition("=")
        try:
            fractions[name] = float(share)
        except ValueError:
            raise ValueError(f"--train-fraction expects NAME=F, got {item!r}") from None
    policy = PackPolicy(lossy=lossy, slice_step=steps, train_fraction=fractions, val_cap=gpu.max_val_images_per_dataset if args.val_cap is None else args.val_cap,
                        zoom_below=gpu.zoom_small_side if args.zoom_below is None else args.zoom_below,
                        split_seed=int(run["seed"]) if args.split_seed is None else args.split_seed,
                        val_originals=args.val_originals)
    log(f"[pack] policy: {policy}")
    return policy


def _pipeline(args):
    from .pipeline import Pipeline

    return Pipeline(
        args.out, datasets=args.datasets, config=args.config, overrides=args.overrides, seed=args.seed, subsets=args.subsets,
        device=args.device, max_minutes_per_stage=args.max_minutes_per_stage, cache_dir=args.cache_dir,
        init_checkpoint=args.init_checkpoint, workers=args.workers, base_run=args.base_run, split_seed=args.split_seed, log=_log,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .data.reader import DatasetError

    try:
        if args.command == "pack":
            from .data.pack import pack_run

            pack_run(args.out, args.pack, _pack_policy(args, _log), args.max_mib, args.cache_dir, args.workers, log=_log,
                     beside=tuple(args.beside))
            return 0
        if args.command == "unpack":
            from .data.pack import unpack

            unpack(args.pack, args.cache, args.workers, log=_log)
            if args.compare_run:
                from .data.pack_check import compare_validation

                compare_validation(args.compare_run, args.cache, args.pack, log=_log)
            return 0
        if args.command == "import-onnx":
            from .export.onnx_import import import_checkpoint

            import_checkpoint(args.models, args.expert, args.output, args.config, args.overrides,
                              verify=not args.no_verify, log=_log)
            return 0
        if args.command == "merge-experts":
            from .export.merge import merge_experts

            names = [n.strip() for n in args.experts.split(",") if n.strip()]
            merge_experts(args.into, args.source, names, args.output, log=_log)
            return 0
        if args.command == "optimize-graphs":
            from .export.optimize_graphs import optimize_zoo

            optimize_zoo(args.models, args.output, verify=not args.no_verify, log=_log)
            return 0
        if args.command == "bench":
            from .bench import run_bench

            run_bench(args.config, args.overrides, args.checkpoint, args.threads, args.boxes, args.repeat, log=print)
            return 0
        if args.command == "bench-train":
            from .bench_train import run_bench_train

            run_bench_train(args.cache, args.datasets, args.config, args.overrides, args.device, args.steps, args.warmup,
                            with_teacher=not args.no_teacher, with_validation=not args.no_validation, profile_steps=args.profile_steps,
                            json_path=args.json,
                            log=_log)
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
        elif args.command == "norm-statistics":
            from .norm_statistics import norm_statistics_report

            print(norm_statistics_report(p), end="")
        elif args.command == "export":
            from .export.expert_export import export_run

            if p.runtime.is_main:
                export_run(p, args.models_dir, verify=not args.no_verify, policy=args.policy, selector=args.selector,
                           mirroring=args.mirroring)
        return 0
    except (DatasetError, ValueError, RuntimeError, FileNotFoundError) as exc:
        message = " ".join(str(exc).split())
        print(f"daft_train: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("daft_train: interrupted; re-run the same command to resume from the last finished epoch", file=sys.stderr)
        return 130
