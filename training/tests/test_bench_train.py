"""bench-train: every part of a training step is timed, on an unpacked pack as the GPU machine has it."""

import json

import pytest

from daft_train.bench_train import PARTS
from daft_train.cli import main as cli


def test_bench_train_times_every_part_of_a_step_on_an_unpacked_pack(tmp_path):
    import synthetic

    cache = synthetic.make_unpacked_pack(str(tmp_path), ct_count=6)
    out = tmp_path / "bench.json"
    assert cli(["bench-train", "--cache", cache, "--config", "tiny", "--device", "cpu", "--steps", "2",
                "--warmup", "1", "--profile-steps", "1", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert set(report["ms"]) == set(PARTS)
    assert all(ms > 0 for ms in report["ms"].values())
    assert report["images_per_s"]["assembly"] == round(report["batch_images"] / (report["ms"]["assembly"] / 1000.0), 1)
    assert report["validation_s"] > 0 and 0.0 <= report["validation_dsc_untrained"] <= 1.0
    assert "aten::" in report["profile_top_ops"]
    assert report["train_samples"] > 0 and report["device"] == "cpu"
    assert not list(tmp_path.glob("*.tmp"))


def test_bench_train_without_a_pack_index_names_the_folder(tmp_path):
    from daft_train.bench_train import run_bench_train

    with pytest.raises(ValueError, match=f"{tmp_path}: no pack.json here"):
        run_bench_train(str(tmp_path), None, "tiny", [], "cpu", steps=1, warmup=0)
