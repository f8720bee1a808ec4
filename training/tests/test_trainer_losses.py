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

    def recording(net, batch, train_cfg=None):
        loss = original(net, batch, train_cfg)
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

    def poisoned(net, batch, train_cfg=None):
        calls.append(1)
        loss = original(net, batch, train_cfg)
        return loss * math.nan if len(calls) == 2 else loss

    monkeypatch.setattr(trainer, "batch_segmentation_loss", poisoned)
    with pytest.raises(FloatingPointError, match=r"loss became nan at epoch 1 step 2"):
        _pipeline(data, tmp_path / "run").run_teacher()
    assert len(calls) == 3  # read one step late: the third step was queued before the second's loss was read


def test_the_boundary_band_is_the_pixels_near_the_edge_inside_and_out():
    import torch
    from daft_train.losses import boundary_band

    mask = torch.zeros(1, 1, 12, 12, dtype=torch.bool)
    mask[0, 0, 3:9, 3:9] = True  # a 6 x 6 square
    band = boundary_band(mask, 1)[0, 0]
    # within one pixel of the square's edge: the ring from 2 to 9 minus the core from 4 to 7
    expected = torch.zeros(12, 12, dtype=torch.bool)
    expected[2:10, 2:10] = True
    expected[4:8, 4:8] = False
    assert torch.equal(band, expected)
    # a mask touching the image's edge has no boundary there; an empty or full mask has none at all
    edge = torch.zeros(1, 1, 6, 6, dtype=torch.bool)
    edge[0, 0, :, :3] = True
    assert boundary_band(edge, 1)[0, 0].sum(dim=0).tolist() == [0, 0, 6, 6, 0, 0]
    assert not boundary_band(torch.zeros(1, 1, 6, 6, dtype=torch.bool), 2).any()
    assert not boundary_band(torch.ones(1, 1, 6, 6, dtype=torch.bool), 2).any()


def test_the_boundary_term_is_added_only_when_weighted():
    import torch
    from daft_train.losses import boundary_bce, segmentation_loss

    torch.manual_seed(0)
    logits = torch.randn(2, 3, 16, 16)
    iou = torch.rand(2, 3)
    masks = torch.zeros(2, 3, 16, 16, dtype=torch.bool)
    masks[:, :, 4:12, 5:11] = True
    valid = torch.tensor([[True, True, False], [True, False, False]])
    paper, terms = segmentation_loss(logits, iou, masks, valid)
    assert "boundary_bce" not in terms
    weighted, terms = segmentation_loss(logits, iou, masks, valid, boundary_weight=0.5, boundary_band_px=2)
    band_term = boundary_bce(logits, masks, 2)
    expected_extra = 0.5 * band_term[valid].mean()
    assert torch.allclose(weighted, paper + expected_extra)
    # confident and right on the band: the term vanishes; wrong on it: it grows
    right = torch.where(masks, 20.0, -20.0)
    assert float(boundary_bce(right, masks, 2).max()) < 1e-6
    assert float(boundary_bce(-right, masks, 2).min()) > 10


def test_boundary_settings_out_of_range_are_refused():
    from daft_train.config import apply_overrides, get_config

    cfg = apply_overrides(get_config("tiny"), ["train.boundary_weight=0.5", "train.boundary_band_px=3"])
    assert (cfg.train.boundary_weight, cfg.train.boundary_band_px) == (0.5, 3)
    for bad in (["train.boundary_weight=-1"], ["train.boundary_band_px=0"]):
        with pytest.raises(ValueError, match="boundary"):
            apply_overrides(get_config("tiny"), bad)
