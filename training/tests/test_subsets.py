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
