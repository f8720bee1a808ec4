import json

import pytest

from daft_train.subsets import parse_subsets, subset_modalities

METAS = [
    {"dataset": "ct-a", "cases": [{"case": "a1", "modality": "CT"}, {"case": "a2", "modality": "CT"}]},
    {"dataset": "mr-b", "cases": [{"case": "b1", "modality": "MR"}]},
    {"dataset": "npz-mixed", "cases": [{"case": "c1", "modality": "PET"}, {"case": "c2", "modality": "Microscopy"}]},
]


def test_default_is_one_subset_per_modality():
    subsets = parse_subsets("modality", METAS)
    assert [s.name for s in subsets] == ["CT", "MR", "Microscopy", "PET"]
    assert subsets[0].includes("anything", "CT") and not subsets[0].includes("ct-a", "MR")


def test_inline_groups():
    subsets = parse_subsets("CT+MR+PET,Microscopy", METAS)
    assert [(s.name, s.modalities) for s in subsets] == [("CT_MR_PET", ["CT", "MR", "PET"]), ("Microscopy", ["Microscopy"])]
    assert subsets[0].includes("npz-mixed", "PET") and not subsets[0].includes("npz-mixed", "Microscopy")


def test_json_file_with_datasets_and_modalities(tmp_path):
    path = tmp_path / "subsets.json"
    path.write_text(json.dumps({"radiology": {"modalities": ["CT", "MR"]}, "mixed_pet": {"datasets": ["npz-mixed"], "modalities": ["PET"]},
                                "all_b": {"datasets": ["mr-b"]}}))
    subsets = {s.name: s for s in parse_subsets(str(path), METAS)}
    assert subsets["mixed_pet"].includes("npz-mixed", "PET") and not subsets["mixed_pet"].includes("other", "PET")
    assert subset_modalities(subsets["all_b"], METAS) == ["MR"]
    assert subset_modalities(subsets["radiology"], METAS) == ["CT", "MR"]


@pytest.mark.parametrize("spec,message", [("CT+,", "empty group"), ("general", "invalid subset name"), ("a b", "invalid subset name"), ("CT,CT", "duplicate")])
def test_bad_specs(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_subsets(spec, METAS)


def test_bad_json(tmp_path):
    path = tmp_path / "s.json"
    path.write_text('{"x": {"modalities": "CT"}}')
    with pytest.raises(ValueError, match="must be an object with 'modalities'"):
        parse_subsets(str(path), METAS)


def _clusters_doc(**overrides):
    """A file as `daft subsets propose` writes it (only the fields the training package reads matter)."""
    doc = {
        "format": "daft-subsets",
        "version": 1,
        "criterion": "k-means ...",
        "seed": 0,
        "groups": {
            "2d": {"dimension": 2, "k": 2, "subsets": {
                "2d-cluster-0": {"cases": ["ct-a/a1", "npz-mixed/c2"], "modalities": {"CT": 1, "Microscopy": 1},
                                 "datasets": {"ct-a": 1, "npz-mixed": 1}, "valCases": ["ct-a/a2"]},
                "2d-cluster-1": {"cases": ["npz-mixed/c1"], "modalities": {"PET": 1}, "datasets": {"npz-mixed": 1}, "valCases": []},
            }},
            "3d": {"dimension": 3, "k": 1, "subsets": {
                "3d-cluster-0": {"cases": ["mr-b/b1"], "modalities": {"MR": 1}, "datasets": {"mr-b": 1}},
            }},
        },
    }
    doc.update(overrides)
    return doc


def test_subsets_propose_file_gives_one_case_level_subset_per_cluster(tmp_path):
    path = tmp_path / "clusters.json"
    path.write_text(json.dumps(_clusters_doc()))
    subsets = {s.name: s for s in parse_subsets(str(path), METAS)}
    assert list(subsets) == ["2d-cluster-0", "2d-cluster-1", "3d-cluster-0"]
    c0 = subsets["2d-cluster-0"]
    # membership by case id "<dataset>/<case>": train cases and the val cases routed to the cluster
    assert c0.includes("ct-a", "CT", "a1") and c0.includes("ct-a", "CT", "a2") and c0.includes("npz-mixed", "Microscopy", "c2")
    assert not c0.includes("npz-mixed", "PET", "c1") and not c0.includes("ct-a", "CT", "a3")
    assert not c0.includes("ct-a", "CT")  # without a case id nothing is in a cluster
    assert subsets["3d-cluster-0"].includes("mr-b", "MR", "b1")  # no valCases key: train cases only
    # cluster experts serve no modality by name: the engine reaches them through the cluster rule
    assert subset_modalities(c0, METAS) == []


@pytest.mark.parametrize("change,message", [
    ({"version": 2}, "version 2 is not supported"),
    ({"groups": {"2d": {"subsets": {"x": {"cases": "ct-a/a1"}}}, "3d": None}}, "cluster 'x' must have 'cases'"),
    ({"groups": {"2d": None, "3d": None}}, "has no clusters"),
])
def test_bad_subsets_propose_file(tmp_path, change, message):
    path = tmp_path / "clusters.json"
    path.write_text(json.dumps(_clusters_doc(**change)))
    with pytest.raises(ValueError, match=message):
        parse_subsets(str(path), METAS)
