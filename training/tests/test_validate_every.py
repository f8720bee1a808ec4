"""train.validate_every_epochs: validation every k-th epoch and always after the epoch a stage ends with."""

import json
import os

import synthetic
from daft_train.cli import main
from daft_train.pipeline import Pipeline


def _epochs(run_dir, stage):
    with open(os.path.join(run_dir, "stages", stage, "metrics.jsonl")) as f:
        return [r for r in map(json.loads, f) if r["type"] == "epoch"]


def test_validation_every_third_epoch_and_after_the_last(tmp_path, capsys):
    data = synthetic.make_three_modalities(str(tmp_path / "data"), ct_count=6)
    run_dir = str(tmp_path / "run")
    assert main(["teacher", "--datasets", *data, "--out", run_dir, "--config", "tiny", "--device", "cpu", "--workers", "1",
                 "--set", "train.teacher.epochs=5", "--set", "train.validate_every_epochs=3",
                 "--set", "train.teacher.patience=1"]) == 0
    records = _epochs(run_dir, "teacher")
    assert [r["epoch"] for r in records] == [1, 2, 3, 4, 5]
    validated = [r["epoch"] for r in records if r["val_loss"] is not None]
    assert validated == [3, 5]  # every 3rd, and the last; patience 1 counts validations, so epoch 4 did not stop it
    assert all(r["val_dsc"] is None and not r["improved"] for r in records if r["epoch"] not in validated)
    done = json.load(open(os.path.join(run_dir, "stages", "teacher", "done.json")))
    assert done["best_epoch"] in validated and done["epochs_run"] == 5
    assert os.path.exists(os.path.join(run_dir, "stages", "teacher", "loss_curve.png"))
    out = capsys.readouterr().out
    assert "epoch 1/5 done: train loss" in out and "(not validated)" in out


def test_the_epoch_the_time_cap_stops_is_validated(tmp_path):
    data = synthetic.make_three_modalities(str(tmp_path / "data"), ct_count=6)
    p = Pipeline(str(tmp_path / "run"), datasets=data, config="tiny", seed=0, device="cpu",
                 overrides=["train.teacher.epochs=50", "train.validate_every_epochs=10"], log=lambda m: None)
    p.max_minutes = 1e-4  # the first step already passes the cap
    result = p.run_teacher()
    records = _epochs(str(tmp_path / "run"), "teacher")
    assert result.stopped == "time limit" and [r["epoch"] for r in records] == [1]
    assert records[0]["val_loss"] is not None and result.best_epoch == 1
