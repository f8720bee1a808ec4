"""The GPU session driver's time budget and its collect → restore round trip (the $OUT limits)."""

import json
import os
import time

import pytest
import torch

from daft_train import gpu_session
from daft_train.config import get_config
from daft_train.gpu_session import Budget
from daft_train.models.sam import build_student
from daft_train.pipeline import load_state_dict_file


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_budget_shares_the_time_left_and_reserves_selections():
    clock = Clock()
    items = [(0, "teacher", 3.0), (0, "general", 1.0), (1, "general", 1.0), (1, "daft", 1.0)]
    budget = Budget(deadline=1000.0 + 600, items=items, select_seconds=30.0, clock=clock)
    assert budget.start(0, "teacher") == pytest.approx((600 - 2 * 30) * 3 / 6)
    clock.now += 60  # the teacher stopped early: its unused time goes to the rest
    assert budget.start(0, "general") == pytest.approx((540 - 60) * 1 / 3)
    clock.now += 100
    budget.selected(50.0)  # a measured selection raises the reserve of the ones left
    assert budget.select_seconds == 50.0 and budget.selects_left == 1
    assert budget.start(1, "general") == pytest.approx((440 - 50) / 2)
    clock.now = 1000.0 + 600
    assert budget.start(1, "daft") == 0.0  # past the deadline: nothing


def test_budget_reserves_selections_by_their_size_and_releases_the_ones_that_will_not_run():
    clock = Clock()
    items = [(0, "general", 4.0), (1, "CT", 1.0), (2, "MR", 1.0)]
    budget = Budget(deadline=1000.0 + 600, items=items, select_seconds=0.1, clock=clock,
                    select_sizes={0: 1000.0, 1: 50.0, 2: 200.0})
    assert budget.start(0, "general") == pytest.approx((600 - 0.1 * 1250) * 4 / 6)
    clock.now += 300
    budget.selected(20.0, 0)  # 0.02 s a sample: the small selections reserve little
    assert budget.select_seconds == pytest.approx(0.05) and budget.selects_left == 2  # halved at most per measurement
    budget.no_selection(1)  # CT did not train: no selection to wait for
    assert budget.start(1, "CT") == pytest.approx((300 - 0.05 * 200) / 2)
    assert budget.start(2, "MR") == pytest.approx(300 - 0.05 * 200)


def _fake_runs(root, seeds=(0, 1), subsets=("CT", "MR")):
    model = build_student(get_config("tiny").model)
    for seed in seeds:
        run = os.path.join(root, f"gpu-seed{seed}")
        stages = ["distill", "general"] + [f"daft/{s}" for s in subsets]
        for stage in stages:
            folder = os.path.join(run, "stages", stage)
            os.makedirs(folder)
            torch.save({"model": model.state_dict(), "stage": stage, "epoch": 3, "val_loss": 0.5, "val_dsc": 0.8, "encoder": "student"},
                       os.path.join(folder, "best.pt"))
            torch.save({"optimizer": torch.zeros(1000)}, os.path.join(folder, "last.pt"))  # never collected
            for name in ("done.json", "metrics.jsonl"):
                with open(os.path.join(folder, name), "w") as f:
                    f.write("{}\n")
        with open(os.path.join(run, "run.json"), "w") as f:
            json.dump({"seed": seed}, f)
        with open(os.path.join(run, "selection.json"), "w") as f:
            json.dump({"subsets": {"general": {"selected": "general"}, "CT": {"selected": "distill" if seed == 0 else "daft/CT"}}}, f)
    with open(os.path.join(root, "session.json"), "w") as f:
        json.dump({"items": []}, f)
    return model


def test_collect_and_restore_round_trip_within_the_out_limits(tmp_path, monkeypatch):
    runs, out, back = tmp_path / "runs", tmp_path / "out", tmp_path / "back"
    model = _fake_runs(str(runs))
    one = len(gpu_session._stripped(str(runs / "gpu-seed0/stages/general/best.pt"), half=True))
    # 7 candidates (seed 0: general, 2 DAFT; seed 1: general, 2 DAFT; seed 0's distill), room for 5 float16 ones
    monkeypatch.setattr(gpu_session, "TOTAL_LIMIT", int(5.5 * (one + 1024)) + 64 * 1024 + 2 * 2**20)
    monkeypatch.setattr(gpu_session, "PART_BYTES", 2 * one)
    os.makedirs(out)
    with open(out / "gpu_run.log", "w") as f:
        f.write("log\n")
    assert gpu_session.main(["collect", "--runs", str(runs), "--out", str(out), "--reserve-mib", "2"]) == 0
    files = sorted(os.listdir(out))
    assert len(files) <= gpu_session.FILE_LIMIT and all(os.path.getsize(out / f) <= gpu_session.PART_BYTES for f in files if "part" in f)
    assert sum(os.path.getsize(out / f) for f in files) <= gpu_session.TOTAL_LIMIT
    assert gpu_session.main(["restore", "--from", str(out), "--runs", str(back), "--cache", str(tmp_path / "cache")]) == 0
    record = json.load(open(back / "checkpoints.json"))
    assert record["weights"] == "float16" and record["included"] == [
        "gpu-seed0/stages/general/best.pt", "gpu-seed0/stages/daft/CT/best.pt", "gpu-seed0/stages/daft/MR/best.pt",
        "gpu-seed1/stages/general/best.pt", "gpu-seed1/stages/daft/CT/best.pt"]
    assert record["left_out"] == ["gpu-seed1/stages/daft/MR/best.pt", "gpu-seed0/stages/distill/best.pt"]
    state = load_state_dict_file(str(back / "gpu-seed0/stages/general/best.pt"))
    restored = build_student(get_config("tiny").model)
    restored.load_state_dict(state)
    for (name, a), b in zip(model.state_dict().items(), restored.state_dict().values()):
        assert a.dtype == b.dtype and torch.allclose(a.float(), b.float(), rtol=1e-3, atol=1e-4), name
    assert os.path.exists(back / "session.json") and os.path.exists(back / "gpu-seed1/selection.json")
    assert not os.path.exists(back / "gpu-seed0/stages/general/last.pt")
    assert os.path.islink(back / "gpu-seed0" / "cache") and os.readlink(back / "gpu-seed0" / "cache") == os.path.join("..", "..", "cache")


def test_collect_keeps_float32_when_everything_fits(tmp_path):
    runs, out = tmp_path / "runs", tmp_path / "out"
    _fake_runs(str(runs), seeds=(0, 1), subsets=("CT",))
    os.remove(runs / "gpu-seed1" / "stages" / "distill" / "best.pt")  # a later seed's adopted distill stage: done.json only
    assert gpu_session.main(["collect", "--runs", str(runs), "--out", str(out)]) == 0
    assert gpu_session.main(["restore", "--from", str(out), "--runs", str(tmp_path / "back"), "--cache", str(tmp_path)]) == 0
    record = json.load(open(tmp_path / "back" / "checkpoints.json"))
    assert record["weights"] == "float32" and not record["left_out"] and len(record["included"]) == 5
    assert os.path.exists(tmp_path / "back" / "gpu-seed1" / "stages" / "distill" / "best.pt")  # seed 0's, copied back


def test_train_runs_every_seed_on_one_split_from_the_unpacked_pack(tmp_path):
    import synthetic

    cache = synthetic.make_unpacked_pack(str(tmp_path), ct_count=10)
    runs = tmp_path / "runs"
    code = gpu_session.main(["train", "--cache", cache, "--runs", str(runs), "--deadline", str(time.time() + 240),
                             "--config", "tiny", "--device", "cpu", "--seeds", "2", "--select-seconds", "5",
                             "--set", "train.teacher.epochs=2"])
    assert code == 0
    session = json.load(open(runs / "session.json"))
    assert session["errors"] == [] and [(i["seed"], i["item"]) for i in session["items"]] == [
        (0, "teacher"), (0, "distill"), (0, "general"), (0, "daft"), (0, "select"), (1, "general"), (1, "daft"), (1, "select")]
    assert all(i["cap_minutes"] > 0 for i in session["items"] if "cap_minutes" in i)
    for seed in (0, 1):
        run = json.load(open(runs / f"gpu-seed{seed}" / "run.json"))
        assert run["seed"] == seed and run["split_seed"] == 0
        selection = json.load(open(runs / f"gpu-seed{seed}" / "selection.json"))
        assert {"general", "CT", "MR", "Microscopy"} <= set(selection["subsets"])
    done = json.load(open(runs / "gpu-seed1" / "stages" / "distill" / "done.json"))
    assert "init-checkpoint" in done["stopped"] and not (runs / "gpu-seed1" / "stages" / "teacher").exists()


def test_gpu_tree_leaves_the_zoo_behind_for_the_device_call_and_restores_it(tmp_path):
    """scripts/gpu_tree.sh: models/ and training/results/ untracked and ignored for the call (their files untouched),
    then tracked again."""
    import shutil
    import subprocess

    script = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "gpu_tree.sh")
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    (repo / "models").mkdir()
    shutil.copy(script, repo / "scripts" / "gpu_tree.sh")
    (repo / "models" / "manifest.json").write_text("{}")
    (repo / "training" / "results").mkdir(parents=True)
    (repo / "training" / "results" / "run.md").write_text("# run")

    def git(*args):
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout

    def tree(*args):
        return subprocess.run(["bash", str(repo / "scripts" / "gpu_tree.sh"), *args], capture_output=True, text=True)

    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "zoo")
    assert tree("status").stdout.strip() == "tracked"
    assert tree("leave-behind").returncode == 0
    assert git("ls-files") == "scripts/gpu_tree.sh\n" and git("ls-files", "--others", "--exclude-standard") == ""
    assert (repo / "models" / "manifest.json").read_text() == "{}" and (repo / "training" / "results" / "run.md").exists()
    assert tree("status").stdout.startswith("left behind")
    assert tree("restore").returncode == 0
    assert git("ls-files", "models", "training").split() == ["models/manifest.json", "training/results/run.md"]
    assert git("status", "--porcelain") == ""
    exclude = (repo / ".git" / "info" / "exclude").read_text()
    assert "/models/" not in exclude and "/training/results/" not in exclude
    (repo / "models" / "manifest.json").write_text('{"changed": 1}')
    refused = tree("leave-models")
    assert refused.returncode == 1 and "uncommitted changes" in refused.stderr and git("ls-files", "models") != ""
