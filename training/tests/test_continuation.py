"""continuation.py: prepare a zoo → train every expert further from the unpacked pack (one process) → collect →
finish (restore, select against the start, export, merge) on tiny data on the CPU."""

import json
import os
import time

import torch

from daft_train import continuation, gpu_session
from daft_train.config import get_config
from daft_train.export.manifest import load_manifest
from daft_train.models.sam import build_student

import synthetic
from zoo import trained_looking_student, write_zoo


def _zoo(root: str) -> str:
    experts = {}
    for i, name in enumerate(("general", "CT", "Microscopy", "Dermoscopy")):  # Dermoscopy: no data in the pack
        experts[name] = (f"daft-{name}" if name != "general" else "distill", trained_looking_student(get_config("tiny"), seed=i))
    return write_zoo(root, experts, "20260101-000000")


def test_prepare_writes_a_checkpoint_per_expert_that_loads_as_the_student(tmp_path):
    zoo = _zoo(str(tmp_path / "zoo"))
    doc = continuation.prepare(zoo, str(tmp_path / "start"), config="tiny", log=lambda m: None)
    assert [e["name"] for e in doc["experts"]] == ["general", "CT", "Microscopy", "Dermoscopy"]
    assert continuation.read_start(str(tmp_path / "start"))["config"] == "tiny"
    ckpt = torch.load(tmp_path / "start" / "CT.pt", weights_only=True)
    assert ckpt["norm_stats"] == "folded" and all(v.dtype == torch.float16 for v in ckpt["model"].values() if v.is_floating_point())
    build_student(get_config("tiny").model).load_state_dict(ckpt["model"])


def test_prepare_refuses_an_expert_not_named_after_its_modalities(tmp_path, capsys):
    zoo = _zoo(str(tmp_path / "zoo"))
    path = os.path.join(zoo, "manifest.json")
    manifest = json.load(open(path))
    manifest["experts"][1]["modalities"] = ["CT", "PET"]
    json.dump(manifest, open(path, "w"))
    assert continuation.main(["prepare", "--models", zoo, "--out", str(tmp_path / "start"), "--config", "tiny"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "expert 'CT' serves ['CT', 'PET']" in err and not (tmp_path / "start").exists()


def test_decide_merges_only_what_validates_better_where_it_serves():
    sel = {"subsets": {"general": {"selected": "general", "scores": {"distill": 0.80, "general": 0.82}},
                       "Fundus": {"selected": "distill", "scores": {"distill": 0.90, "general": 0.88}},
                       "CT": {"selected": "daft/CT", "scores": {"general": 0.70, "daft/CT": 0.72}}}}
    assert continuation.decide({"expert": "general", "general": True}, sel, [])[0] is True
    ok, why, start, cont = continuation.decide({"expert": "general", "general": True}, sel, ["Fundus"])
    assert not ok and "worse on Fundus" in why and (start, cont) == (0.80, 0.82)
    assert continuation.decide({"expert": "CT", "general": False}, sel, [])[:2] == (True, "the continuation validates better")
    sel["subsets"]["CT"]["selected"] = "general"
    assert continuation.decide({"expert": "CT", "general": False}, sel, [])[0] is False


def test_continue_round_trip_from_zoo_to_merged_zoo(tmp_path):
    cache = synthetic.make_unpacked_pack(str(tmp_path), ct_count=10)
    zoo = _zoo(str(tmp_path / "zoo"))
    start = str(tmp_path / "start")
    assert continuation.main(["prepare", "--models", zoo, "--out", start, "--config", "tiny"]) == 0
    runs, out = tmp_path / "gpu-runs", tmp_path / "out"
    code = continuation.main(["train", "--cache", cache, "--start", start, "--runs", str(runs), "--deadline", str(time.time() + 240),
                              "--config", "tiny", "--device", "cpu", "--select-seconds-per-sample", "0.1",
                              "--set", "train.daft.epochs=2", "--set", "train.finetune.epochs=2"])
    assert code == 0
    session = json.load(open(runs / "session.json"))
    assert session["errors"] == [] and [i["expert"] for i in session["items"]] == ["general", "CT", "Microscopy"]
    assert all(i["epochs_run"] == 2 and i["selected"] for i in session["items"])
    assert json.load(open(runs / "cont-general" / "stages" / "distill" / "done.json"))["norm_stats"] == "folded"
    assert gpu_session.main(["collect", "--runs", str(runs), "--out", str(out)]) == 0
    record_names = sorted(os.listdir(out))
    assert "results.tar.gz" in record_names and any(n.startswith("checkpoints.tar.part-") for n in record_names)

    back, merged = tmp_path / "back", tmp_path / "zoo-gpu"
    code = continuation.main(["finish", "--from", str(out), "--start", start, "--runs", str(back),
                              "--cache", str(tmp_path / "cpu-run" / "cache"), "--into", zoo, "-o", str(merged), "--no-verify"])
    assert code == 0
    record = json.load(open(back / "checkpoints.json"))
    assert sorted(record["included"]) == ["cont-CT/stages/daft/CT/best.pt", "cont-Microscopy/stages/daft/Microscopy/best.pt",
                                          "cont-general/stages/general/best.pt"]  # the adopted starts do not travel
    report = json.load(open(back / "continuation.json"))
    rows = {r["expert"]: r for r in report["rows"]}
    assert rows["Dermoscopy"]["merged"] is False and "no run" in rows["Dermoscopy"]["reason"]
    for name in ("general", "CT", "Microscopy"):
        assert rows[name]["epochs"] == 2 and rows[name]["start_dsc"] is not None and rows[name]["continued_dsc"] is not None
        assert rows[name]["merged"] == (rows[name]["continued_dsc"] > rows[name]["start_dsc"]) or name == "general"
    # the experts started from random weights: training two epochs must beat them somewhere
    assert any(r["merged"] for r in rows.values()) and report["zoo"] == str(merged)
    manifest = load_manifest(str(merged / "manifest.json"))
    versions = {e["name"]: e["version"] for e in manifest["experts"]}
    assert set(versions) == {"general", "CT", "Microscopy", "Dermoscopy"} and versions["Dermoscopy"] == "20260101-000000-Dermoscopy"
    for name, row in rows.items():
        assert (versions[name] != f"20260101-000000-{name}") == row["merged"], name
    assert "| CT | 20260101-000000-CT |" in (back / "continuation.md").read_text()
    # the restored start checkpoint is the prepared one
    state = torch.load(back / "cont-CT" / "stages" / "general" / "best.pt", weights_only=False)["model"]
    start_state = torch.load(os.path.join(start, "CT.pt"), weights_only=True)["model"]
    assert all(torch.equal(state[k], start_state[k].float()) for k in start_state)
