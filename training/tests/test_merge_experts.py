"""merge-experts: a fine-tuned expert goes into a copy of a zoo; the rest of the zoo stays as it was."""

import json
import os

import pytest
import torch

from daft_train.cli import main
from daft_train.config import get_config
from daft_train.data.cache import sha256_file
from daft_train.export.manifest import load_manifest
from daft_train.export.merge import merge_experts
from daft_train.models.sam import build_student
from zoo import write_zoo


def zoo(root, experts, seed):
    """A valid models folder: expert name → folder, each a tiny student's ONNX pair; a selector beside them."""
    torch.manual_seed(seed)
    models = {name: (folder, build_student(get_config("tiny").model).eval()) for name, folder in experts.items()}
    return write_zoo(root, models, f"seed{seed}", selector=True)


@pytest.fixture(scope="module")
def zoos(tmp_path_factory):
    root = tmp_path_factory.mktemp("zoos")
    shipped = zoo(str(root / "shipped"), {"general": "distill", "CT": "daft-CT", "US": "daft-US"}, seed=1)
    mine = zoo(str(root / "mine"), {"general": "general", "CT": "daft-CT", "MR": "daft-MR"}, seed=2)
    return root, shipped, mine


def test_a_fine_tuned_expert_replaces_its_namesake_and_a_new_one_is_added(zoos):
    root, shipped, mine = zoos
    out = str(root / "merged")
    merge_experts(shipped, mine, ["CT", "MR"], out, log=lambda *_: None)
    merged = load_manifest(os.path.join(out, "manifest.json"))
    versions = {e["name"]: e["version"] for e in merged["experts"]}
    assert versions == {"general": "seed1-general", "CT": "seed2-CT", "US": "seed1-US", "MR": "seed2-MR"}
    for e in merged["experts"]:  # every file is there and is the one its manifest entry names
        for part in ("encoder", "decoder"):
            assert sha256_file(os.path.join(out, e[part]["file"])) == e[part]["sha256"]
    assert os.path.exists(os.path.join(out, "selector.json"))
    with open(os.path.join(out, "export_report.json")) as f:
        assert [m["expert"] for m in json.load(f)["merged"]] == ["CT", "MR"]
    # the zoo merged into is untouched
    assert {e["name"] for e in load_manifest(os.path.join(shipped, "manifest.json"))["experts"]} == {"general", "CT", "US"}


def test_a_folder_of_another_expert_is_not_overwritten(zoos):
    root, shipped, mine = zoos
    # mine's "general" lives in folder "general"; shipped has no such folder, but merging it under the name
    # "general" would be fine — merging mine's CT while shipped's US used folder daft-CT would not
    clash = zoo(str(root / "clash"), {"general": "distill", "US": "daft-CT"}, seed=3)
    with pytest.raises(ValueError, match="belongs to another expert"):
        merge_experts(clash, mine, ["CT"], str(root / "never"), log=lambda *_: None)
    assert not os.path.exists(root / "never")


def test_cli_errors_are_one_line(zoos, capsys):
    root, shipped, mine = zoos
    assert main(["merge-experts", "--into", shipped, "--from", mine, "--experts", "PET", "-o", str(root / "x")]) == 1
    assert "no expert named 'PET'" in capsys.readouterr().err
    assert main(["merge-experts", "--into", str(root / "nowhere"), "--from", mine, "--experts", "CT"]) == 1
    assert "cannot read manifest JSON" in capsys.readouterr().err
