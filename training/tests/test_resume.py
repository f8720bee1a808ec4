"""A stage interrupted after an epoch resumes from its last checkpoint and ends exactly where an uninterrupted
run ends (epoch plans and augmentation are seeded per epoch, optimizer and scheduler state are restored)."""

import json
import os

import pytest
import torch

import synthetic
from daft_train import trainer
from daft_train.pipeline import Pipeline


class SimulatedCrash(Exception):
    pass


def crash_after(stage: str, epoch: int):
    def hook(name, finished_epoch):
        if name == stage and finished_epoch == epoch:
            raise SimulatedCrash(f"{name} epoch {finished_epoch}")

    return hook


def teacher_run(run_dir, data, cache, crash_epoch=None, extra=()):
    hook = crash_after("teacher", crash_epoch) if crash_epoch else None
    if hook:
        trainer.AFTER_EPOCH_HOOKS.append(hook)
    try:
        p = Pipeline(run_dir, datasets=[data], config="tiny", overrides=["train.teacher.epochs=3", "train.teacher.patience=9", *extra],
                     device="cpu", cache_dir=cache, workers=1, log=lambda m: None)
        p.run_teacher()
    finally:
        if hook:
            trainer.AFTER_EPOCH_HOOKS.remove(hook)


@pytest.mark.parametrize("extra", [(), ("train.teacher.ema_decay=0.9",)], ids=["raw", "weight-average"])
def test_crashed_stage_resumes_and_matches_an_uninterrupted_run(tmp_path, extra):
    data = synthetic.make_2d_regions(str(tmp_path / "ct"), count=12)
    cache = str(tmp_path / "cache")
    os.makedirs(cache)
    crashed = str(tmp_path / "crashed")
    with pytest.raises(SimulatedCrash):
        teacher_run(crashed, data, cache, crash_epoch=2, extra=extra)
    stage = os.path.join(crashed, "stages", "teacher")
    assert os.path.exists(os.path.join(stage, "last.pt")) and not os.path.exists(os.path.join(stage, "done.json"))
    teacher_run(crashed, data, cache, extra=extra)  # resumes at epoch 3
    with open(os.path.join(stage, "metrics.jsonl")) as f:
        epochs = [r["epoch"] for r in map(json.loads, f) if r["type"] == "epoch"]
    assert epochs == [1, 2, 3]
    clean = str(tmp_path / "clean")
    teacher_run(clean, data, cache, extra=extra)
    for name in ("last.pt", "best.pt"):  # best.pt: the weight average where there is one
        a = trainer.load_checkpoint(os.path.join(stage, name), "cpu")["model"]
        b = trainer.load_checkpoint(os.path.join(clean, "stages", "teacher", name), "cpu")["model"]
        assert a.keys() == b.keys()
        for k in a:
            torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6, msg=f"{name} {k}")
    if extra:
        last = trainer.load_checkpoint(os.path.join(stage, "last.pt"), "cpu")
        best = trainer.load_checkpoint(os.path.join(stage, "best.pt"), "cpu")
        assert best["ema_decay"] == 0.9 and last["weight_average"]["updates"] > 0
        assert any(not torch.equal(last["model"][k], last["weight_average"]["shadow"][k]) for k in last["weight_average"]["shadow"])
