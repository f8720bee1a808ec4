"""The trainer reads each step's loss one step late (so that the host assembles the next batch while the device runs
the step): the epoch's training loss and the non-finite check must come out as if it read every step at once."""

import json
import math
import os

import pytest

import synthetic
from daft_train import trainer
from daft_train.pipeline import Pipeline


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return synthetic.make_three_modalities(str(tmp_path_factory.mktemp("data")), ct_count=6)


def _pipeline(data, root, epochs=2):
    return Pipeline(str(root), datasets=data, config="tiny", seed=0, device="cpu",
                    overrides=[f"train.teacher.epochs={epochs}", "train.log_every_steps=100"], log=lambda m: None)


def test_the_epoch_loss_is_the_image_weighted_mean_of_every_step(data, tmp_path, monkeypatch):
    seen = []
    original = trainer.batch_segmentation_loss

    def recording(net, batch):
        loss = original(net, batch)
        seen.append((float(loss.detach()), batch.images.shape[0]))
        return loss

    monkeypatch.setattr(trainer, "batch_segmentation_loss", recording)
    p = _pipeline(data, tmp_path / "run", epochs=1)
    p.run_teacher()
    with open(os.path.join(tmp_path, "run", "stages", "teacher", "metrics.jsonl")) as f:
        epochs = [r for r in map(json.loads, f) if r["type"] == "epoch"]
    assert len(seen) > 2 and len(epochs) == 1
    expected = sum(v * n for v, n in seen) / sum(n for _, n in seen)
    assert epochs[0]["train_loss"] == pytest.approx(expected, rel=1e-6)


def test_a_non_finite_loss_stops_the_stage_naming_its_step(data, tmp_path, monkeypatch):
    original = trainer.batch_segmentation_loss
    calls = []

    def poisoned(net, batch):
        calls.append(1)
        loss = original(net, batch)
        return loss * math.nan if len(calls) == 2 else loss

    monkeypatch.setattr(trainer, "batch_segmentation_loss", poisoned)
    with pytest.raises(FloatingPointError, match=r"loss became nan at epoch 1 step 2"):
        _pipeline(data, tmp_path / "run").run_teacher()
    assert len(calls) == 3  # read one step late: the third step was queued before the second's loss was read
