"""End to end on tiny synthetic data: teacher → distill → general → DAFT → select → export (tiny config, CPU)."""

import csv
import hashlib
import json
import os
import shutil

import pytest
import torch

import synthetic
from daft_train.cli import main
from daft_train.config import validation_zoom
from daft_train.evaluate import evaluate_segmentation
from daft_train.pipeline import Pipeline
from daft_train.export.manifest import load_manifest
from daft_train.export.onnx_export import node_available
from daft_train.export.expert_export import LOGITS_TOLERANCE, MIN_MASK_AGREEMENT


def epochs(run_dir, stage):
    with open(os.path.join(run_dir, "stages", stage, "metrics.jsonl")) as f:
        return [r for r in map(json.loads, f) if r["type"] == "epoch"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline")
    data = synthetic.make_three_modalities(str(root), ct_count=12)
    run_dir = str(root / "run")
    code = main(["run", "--datasets", *data, "--out", run_dir, "--config", "tiny", "--device", "cpu", "--workers", "1",
                 "--set", "train.teacher.epochs=5"])
    assert code == 0
    return run_dir


def test_every_stage_ran_and_the_teacher_learned(run):
    for stage in ("teacher", "distill", "general", "daft/CT", "daft/Microscopy", "daft/MR"):
        assert os.path.exists(os.path.join(run, "stages", stage, "done.json")), stage
        assert os.path.exists(os.path.join(run, "stages", stage, "loss_curve.png")), stage
    teacher = epochs(run, "teacher")
    assert len(teacher) == 5
    assert teacher[-1]["train_loss"] < 0.8 * teacher[0]["train_loss"]
    distill = epochs(run, "distill")
    assert distill[-1]["train_loss"] < distill[0]["train_loss"]
    # the kept teacher is better on the validation split than the same network untrained
    p = Pipeline(run)
    zoom = validation_zoom(p.cfg.train)  # small objects are validated on zoom tiles, as the engine segments them
    assert zoom is not None
    untrained = evaluate_segmentation(p.build("teacher"), p.store("val"), p.runtime, 4, zoom=zoom)["loss"]
    best = min(r["val_loss"] for r in teacher)
    assert best < 0.9 * untrained
    kept = evaluate_segmentation(p.load_stage_model("teacher"), p.store("val"), p.runtime, 4, zoom=zoom)["loss"]
    assert kept == pytest.approx(best, rel=1e-4)


def test_selection_picks_the_best_stage_per_subset(run):
    with open(os.path.join(run, "selection.json")) as f:
        selection = json.load(f)
    assert set(selection["subsets"]) == {"general", "CT", "Microscopy", "MR"}
    for name, entry in selection["subsets"].items():
        candidates = {k: v for k, v in entry["scores"].items() if k != "teacher"}
        assert entry["selected"] in candidates
        assert candidates[entry["selected"]] == max(candidates.values())
        if name != "general":
            assert f"daft/{name}" in candidates
    with open(os.path.join(run, "selection.csv")) as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["stage", "general", "CT", "MR", "Microscopy"]
    assert [r[0] for r in rows[1:]] == ["teacher (reference)", "distill", "general", "daft"]
    assert sum(cell.endswith("*") for r in rows[1:] for cell in r[1:]) == 4
    assert os.path.exists(os.path.join(run, "selection.md"))


def test_selection_md_reports_the_mean_selected_validation_dsc(run):
    from daft_train.select import load_selection, selected_mean

    result = load_selection(run)
    scores = [e["scores"][e["selected"]] for n, e in result["subsets"].items() if n != "general" and e["selected"]]
    assert selected_mean(result) == pytest.approx(sum(scores) / len(scores))
    with open(os.path.join(run, "selection.md")) as f:
        assert f"selected validation DSC: {selected_mean(result):.4f}" in f.read()


def test_selection_scores_on_its_own_validation_cap(run, tmp_path):
    """Early stopping validates on train.max_val_images_per_dataset per dataset, selection on
    train.select_val_images_per_dataset (0 = all): the cpu preset stops early on 20 images but selects on 200."""
    from daft_train.select import run_selection

    copy = str(tmp_path / "run")
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns("models*"))
    p = Pipeline(copy, overrides=["train.max_val_images_per_dataset=2", "train.select_val_images_per_dataset=0"],
                 log=lambda m: None)
    every = p.store("val", val_cap=0)
    assert p.store("val").num_samples < every.num_samples  # the early-stopping cap bites
    result = run_selection(p)
    assert result["subsets"]["general"]["val_samples"] == every.num_samples
    assert result["subsets"]["general"]["val_objects"] == every.num_objects


def test_export_writes_a_valid_manifest_and_verified_onnx(run):
    models = os.path.join(run, "models")
    manifest = load_manifest(os.path.join(models, "manifest.json"))
    names = [e["name"] for e in manifest["experts"]]
    assert names[0] == "general" and manifest["fallback"] == "general"
    with open(os.path.join(run, "selection.json")) as f:
        selection = json.load(f)["subsets"]
    expected = {n for n, e in selection.items() if n != "general" and e["selected"] != selection["general"]["selected"]}
    assert set(names[1:]) == expected
    for e in manifest["experts"]:
        assert e["embeddingShape"] == [16, 64, 64] and e["inputSize"] == 256
        assert 0.0 <= e["metrics"]["val_dsc"] <= 1.0
        for part in ("encoder", "decoder"):
            path = os.path.join(models, e[part]["file"])
            with open(path, "rb") as f:
                assert hashlib.sha256(f.read()).hexdigest() == e[part]["sha256"]
    with open(os.path.join(models, "export_report.json")) as f:
        report = json.load(f)
    for name, entry in report["experts"].items():
        if node_available():
            # float16-stored weights (the default): logits near PyTorch's, the same masks (export's own checks)
            assert entry["verification"]["logits_max_abs_diff"] <= LOGITS_TOLERANCE, name
            assert entry["verification"]["mask_agreement"] >= MIN_MASK_AGREEMENT, name
        else:
            assert "skipped" in entry["verification"]


@pytest.mark.parametrize("policy", ["daft", "general"])
def test_export_policies_for_the_daft_vs_general_comparison(run, tmp_path, policy):
    models = str(tmp_path / policy)
    assert main(["export", "--out", run, "--models-dir", models, "--policy", policy, "--no-verify"]) == 0
    manifest = load_manifest(os.path.join(models, "manifest.json"))
    experts = {e["name"]: e for e in manifest["experts"]}
    assert experts["general"]["stage"] == "general"
    if policy == "general":
        assert list(experts) == ["general"]
    else:
        with open(os.path.join(run, "selection.json")) as f:
            subsets = {n for n in json.load(f)["subsets"] if n != "general"}
        assert set(experts) == {"general"} | subsets
        assert all(e["stage"] == "daft" for n, e in experts.items() if n != "general")
    for e in experts.values():  # trained with zoomed crops → the engine tiles small objects the same way
        assert e["smallObjectZoom"] == {"belowFramePx": 32.0, "contextFactor": 5.0, "minTilePx": 32}
        assert e["testTimeMirroring"] == "xy"  # the export default


@pytest.mark.parametrize("mirroring", ["off", "x"])
def test_export_writes_the_chosen_test_time_mirroring(run, tmp_path, mirroring):
    models = str(tmp_path / mirroring)
    assert main(["export", "--out", run, "--models-dir", models, "--policy", "general", "--no-verify",
                 "--mirroring", mirroring]) == 0
    (expert,) = load_manifest(os.path.join(models, "manifest.json"))["experts"]
    # "off" is the engine's default, so it is left out rather than written
    assert expert.get("testTimeMirroring") == (None if mirroring == "off" else mirroring)


def test_rerunning_a_finished_run_skips_every_stage(run, capsys):
    code = main(["run", "--out", run, "--no-verify"])
    assert code == 0
    out = capsys.readouterr().out
    assert "[teacher] already finished" in out and "[daft/MR] already finished" in out
    assert "selection.json is up to date; skipped" in out and "manifest.json is up to date; skipped" in out


@pytest.mark.parametrize("stage", ["teacher", "distill"])
def test_init_checkpoint_replaces_teacher_training(run, tmp_path, stage, capsys):
    """A teacher-shaped checkpoint stands in for the teacher stage; a student-shaped one also for distillation."""
    data = Pipeline(run).info["datasets"]
    new_run = str(tmp_path / "from-init")
    init = os.path.join(run, "stages", stage, "best.pt")
    command = "teacher" if stage == "teacher" else "distill"
    assert main([command, "--datasets", *data, "--out", new_run, "--config", "tiny", "--device", "cpu",
                 "--cache-dir", os.path.join(run, "cache"), "--init-checkpoint", init]) == 0
    with open(os.path.join(new_run, "stages", stage, "done.json")) as f:
        assert "init-checkpoint" in json.load(f)["stopped"]
    assert f"used as the {'teacher' if stage == 'teacher' else 'student'}" in capsys.readouterr().out
    if stage == "teacher":  # the teacher stage did not train
        assert not os.path.exists(os.path.join(new_run, "stages", "teacher", "metrics.jsonl"))


def test_init_checkpoint_of_another_architecture_is_rejected(run, tmp_path, capsys):
    data = Pipeline(run).info["datasets"]
    bad = tmp_path / "bad.pt"
    torch.save({"image_encoder.weird": torch.zeros(1)}, bad)
    code = main(["teacher", "--datasets", *data, "--out", str(tmp_path / "r"), "--config", "tiny", "--init-checkpoint", str(bad)])
    assert code == 1 and "does not match the tiny teacher or student architecture" in capsys.readouterr().err


def test_bad_input_gives_one_line_error(tmp_path, capsys):
    code = main(["teacher", "--datasets", str(tmp_path / "missing"), "--out", str(tmp_path / "r"), "--config", "tiny"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.count("\n") == 0 and "missing: not a folder" in err


def _cluster_file(run_dir: str, path: str) -> dict:
    """A `daft subsets propose`-shaped file over the run's cases that cuts across datasets: cluster 0 = the CT
    cases plus one cells case, cluster 1 = the other cells cases, 3D = the MR cases (train `cases`, val `valCases`)."""
    from daft_train.data.splits import split_of

    metas = Pipeline(run_dir).metas
    clusters = {"2d-cluster-0": {"cases": [], "valCases": []}, "2d-cluster-1": {"cases": [], "valCases": []},
                "3d-cluster-0": {"cases": [], "valCases": []}}
    moved = None
    for meta in metas:
        for c in meta["cases"]:
            split = split_of(meta["dataset"], c["case"], 0)
            if split == "test":
                continue
            if c["dimension"] == 3:
                name = "3d-cluster-0"
            elif meta["modality"] == "CT":
                name = "2d-cluster-0"
            elif moved is None and split == "train":
                name, moved = "2d-cluster-0", c["case"]
            else:
                name = "2d-cluster-1"
            clusters[name]["cases" if split == "train" else "valCases"].append(f"{meta['dataset']}/{c['case']}")
    group = lambda dim, names: {"dimension": dim, "k": len(names), "subsets": {  # noqa: E731
        n: {**clusters[n], "modalities": {}, "datasets": {}} for n in names}}
    doc = {"format": "daft-subsets", "version": 1, "criterion": "test", "seed": 0,
           "groups": {"2d": group(2, ["2d-cluster-0", "2d-cluster-1"]), "3d": group(3, ["3d-cluster-0"])}}
    with open(path, "w") as f:
        json.dump(doc, f)
    return clusters


def test_cluster_daft_from_a_base_runs_general_stage(run, tmp_path, capsys):
    """--base-run: a new run whose DAFT stage starts from another run's general checkpoint, with the clusters of
    a subsets file as subsets; export ships the subsets file for the engine's cluster rule."""
    clusters = _cluster_file(run, str(tmp_path / "clusters.json"))
    new_run = str(tmp_path / "clusters-run")
    assert main(["daft", "--out", new_run, "--base-run", run, "--subsets", str(tmp_path / "clusters.json"), "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    base, info = Pipeline(run).info, Pipeline(new_run).info
    assert info["base_run"] == os.path.abspath(run)
    assert (info["config"], info["datasets"], info["seed"]) == (base["config"], base["datasets"], base["seed"])
    assert not os.path.exists(os.path.join(new_run, "stages", "general"))  # not retrained: the base run's is used
    assert Pipeline(new_run).stage_dir("general") == os.path.join(os.path.abspath(run), "stages", "general")
    # each cluster trains on exactly its cases' samples (the cells dataset is split between the two 2D clusters)
    samples = {f"{m['dataset']}/{c['case']}": c["samples"] for m in Pipeline(run).metas for c in m["cases"]}
    for name, members in clusters.items():
        assert os.path.exists(os.path.join(new_run, "stages", "daft", name, "done.json")), name
        assert f"[daft/{name}] {sum(samples[c] for c in members['cases'])} training samples" in out
    assert not os.path.exists(os.path.join(run, "stages", "daft", "2d-cluster-0"))  # nothing written into the base

    assert main(["select", "--out", new_run, "--device", "cpu"]) == 0
    with open(os.path.join(new_run, "selection.json")) as f:
        selection = json.load(f)["subsets"]
    assert set(selection) == {"general", *clusters}
    assert all("daft/" + n in selection[n]["scores"] for n in clusters)

    models = str(tmp_path / "models")
    assert main(["export", "--out", new_run, "--models-dir", models, "--policy", "daft", "--no-verify"]) == 0
    manifest = load_manifest(os.path.join(models, "manifest.json"))
    assert manifest["routing"]["subsets"] == "subsets.json"
    with open(os.path.join(models, "subsets.json")) as f, open(tmp_path / "clusters.json") as g:
        assert json.load(f) == json.load(g)
    experts = {e["name"]: e for e in manifest["experts"]}
    assert set(experts) == {"general", *clusters}
    assert experts["general"]["version"] == f"{base['created']}-general"  # the base run's general checkpoint
    for name in clusters:  # reached by the cluster rule only
        assert experts[name]["modalities"] == [] and experts[name]["subset"] == name and experts[name]["stage"] == "daft"


def test_base_run_with_another_seed_keeps_the_base_split(run, tmp_path):
    """Several DAFT seeds from one general: --seed with --base-run is the new stages' seed, while the validation
    split (and so selection among the base run's stages) stays the base run's; a different split is refused."""
    base = Pipeline(run)
    reseeded = Pipeline(str(tmp_path / "seed1"), base_run=run, seed=base.seed + 1)
    assert (reseeded.seed, reseeded.split_seed) == (base.seed + 1, base.split_seed)
    assert reseeded.info["seed"] == base.seed + 1 and reseeded.info["split_seed"] == base.split_seed
    with pytest.raises(ValueError, match="the base run used --split-seed"):
        Pipeline(str(tmp_path / "split1"), base_run=run, split_seed=base.split_seed + 1)


def test_daft_with_frozen_norm_statistics_keeps_the_generals_batchnorm_statistics(run, tmp_path):
    """train.daft.freeze_norm_stats (every preset's default): every BatchNorm running statistic of each DAFT expert
    is the general model's, while the weights (BatchNorm scale and shift included) still train; without it the
    statistics move."""
    frozen, free = str(tmp_path / "frozen"), str(tmp_path / "free")
    assert main(["daft", "--out", frozen, "--base-run", run, "--subsets", "CT", "--device", "cpu",
                 "--set", "train.daft.freeze_norm_stats=true"]) == 0
    assert main(["daft", "--out", free, "--base-run", run, "--subsets", "CT", "--device", "cpu",
                 "--set", "train.daft.freeze_norm_stats=false"]) == 0
    general = Pipeline(run).load_stage_model("general").state_dict()
    stats = [k for k in general if k.endswith(("running_mean", "running_var"))]
    affine = [k.replace("running_mean", "weight") for k in stats if k.endswith("running_mean")]
    assert stats and affine
    kept = Pipeline(frozen).load_stage_model("daft", "CT").state_dict()
    moved = Pipeline(free).load_stage_model("daft", "CT").state_dict()
    assert all(torch.equal(kept[k], general[k]) for k in stats)
    assert any(not torch.equal(kept[k], general[k]) for k in affine)
    assert any(not torch.equal(moved[k], general[k]) for k in stats)


def test_norm_statistics_report_scores_each_daft_expert_both_ways(run, capsys):
    assert main(["norm-statistics", "--out", run, "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ") and not line.startswith("| subset")]
    assert [r.split(" | ")[0][2:] for r in rows] == ["CT", "MR", "Microscopy"]
    for row in rows:
        own, general, diff = (float(c) for c in row.strip("| ").split(" | ")[2:])
        assert 0.0 <= own <= 1.0 and 0.0 <= general <= 1.0 and abs(general - own - diff) < 2e-4
    with open(os.path.join(run, "norm_statistics.md")) as f:
        assert f.read().endswith("\n".join(rows) + "\n")


def test_base_run_errors_are_one_line(run, tmp_path, capsys):
    code = main(["daft", "--out", str(tmp_path / "a"), "--base-run", str(tmp_path / "nothing")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.count("\n") == 0 and "--base-run needs a run folder with run.json" in err
    code = main(["daft", "--out", str(tmp_path / "b"), "--base-run", run, "--config", "cpu"])
    assert code == 1 and "the base run used --config tiny" in capsys.readouterr().err


def test_export_replaces_the_folder_without_stale_experts(run, tmp_path, capsys):
    """An expert of an earlier export that the new selection does not ship must not stay behind (it would
    bloat the zoo in git); a folder that is not an export is never replaced."""
    models = tmp_path / "models"
    assert main(["export", "--out", str(run), "--models-dir", str(models), "--policy", "daft", "--no-verify"]) == 0
    daft_folders = {d.name for d in models.iterdir() if d.is_dir()}
    assert main(["export", "--out", str(run), "--models-dir", str(models), "--policy", "general", "--no-verify"]) == 0
    assert {d.name for d in models.iterdir() if d.is_dir()} == {"general"} != daft_folders
    assert [p.name for p in tmp_path.iterdir()] == ["models"]  # no temporary folder left beside it

    other = tmp_path / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    assert main(["export", "--out", str(run), "--models-dir", str(other), "--no-verify"]) != 0
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "holds no manifest.json" in err and str(other) in err
    assert (other / "keep.txt").read_text() == "mine"
