import glob
import json
import os

import pytest

from conftest import REPO_ROOT
from daft_train.export.manifest import (
    DEFAULT_FILENAME_RULES,
    DEFAULT_NIFTI_HEADER_RULES,
    ManifestError,
    load_manifest,
    modality_from_filename,
    modality_from_nifti_header,
    validate_manifest,
)

FIXTURES = os.path.join(REPO_ROOT, "fixtures", "manifest")


def test_valid_fixture_validates_and_gets_defaults():
    m = load_manifest(os.path.join(FIXTURES, "valid.json"))
    assert m["fallback"] == "general" and len(m["experts"]) == 3
    assert m["routing"]["subsets"] == "subsets.json" and m["routing"]["niftiHeaderRules"][2]["fields"] == ["descrip"]
    raw = json.load(open(os.path.join(FIXTURES, "valid.json")))
    del raw["routing"]
    # as zod: no routing → no file-name rules, no metadata table, the default NIfTI header table
    assert validate_manifest(raw)["routing"] == {"filenameRules": [], "metadataModalities": {},
                                                 "niftiHeaderRules": DEFAULT_NIFTI_HEADER_RULES}
    raw["routing"] = {"niftiHeaderRules": []}  # an empty table turns NIfTI header routing off
    assert validate_manifest(raw)["routing"]["niftiHeaderRules"] == []


INVALID = sorted(glob.glob(os.path.join(FIXTURES, "invalid-*.json")))


def test_there_are_invalid_fixtures():
    assert len(INVALID) >= 5


@pytest.mark.parametrize("path", INVALID, ids=[os.path.basename(p) for p in INVALID])
def test_invalid_fixture_is_rejected_with_a_one_line_reason(path):
    with pytest.raises(ValueError) as info:
        load_manifest(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(path)


def test_problems_are_all_listed():
    raw = json.load(open(os.path.join(FIXTURES, "valid.json")))
    raw["experts"][0]["inputSize"] = 0
    raw["experts"][1]["metrics"] = {"val_dsc": "high"}
    raw["format"] = "other"
    with pytest.raises(ManifestError) as info:
        validate_manifest(raw)
    assert len(info.value.issues) == 3


@pytest.mark.parametrize(
    "name,modality",
    [
        ("2DBox_XRay_demo_0001.npz", "XRay"),
        ("3DBox_MR_brain_07.npz", "MR"),
        ("3DBox_MRI_x.npz", "MR"),
        ("2DBox_OCT_retina.npz", "OCT"),
        ("3DBox_CT_abdomen.npz", "CT"),
        ("3DBox_PET_ABC.npz", "PET"),
        ("2DBox_US_heart.npz", "US"),
        ("2DBox_Ultra_x.npz", "US"),
        ("2DBox_Mammo_1.npz", "Mammography"),
        ("2DBox_Dermoscopy_1.npz", "Dermoscopy"),
        ("2DBox_Endoscopy_1.npz", "Endoscopy"),
        ("2DBox_Fundus_1.npz", "Fundus"),
        ("2DBox_Microscope_1.npz", "Microscopy"),
        ("cxr-0001.png", "XRay"),
        ("x-ray.png", "XRay"),
        ("abstract_scan.png", None),  # "CT" inside a word is not a token
        ("mrbrain.nii.gz", None),
    ],
)
def test_default_filename_rules(name, modality):
    assert modality_from_filename(name) == modality


def test_default_rules_put_oct_before_ct():
    mods = [r["modality"] for r in DEFAULT_FILENAME_RULES]
    assert mods.index("OCT") < mods.index("CT")


HEADER_CASES = json.load(open(os.path.join(REPO_ROOT, "fixtures", "routing", "nifti-header-cases.json")))["cases"]


@pytest.mark.parametrize("case", HEADER_CASES, ids=[f"{c['field']}:{c['text']}" for c in HEADER_CASES])
def test_default_nifti_header_rules(case):
    """The same real-world header strings the engine's table is tested on (niftiHeaderRoute.test.ts)."""
    assert modality_from_nifti_header({case["field"]: case["text"]}) == case["modality"]


def test_shipped_manifest_has_the_default_nifti_header_table():
    """models/manifest.json carries the table export writes; the TypeScript test compares it with its default."""
    shipped = load_manifest(os.path.join(REPO_ROOT, "models", "manifest.json"))
    assert shipped["routing"]["niftiHeaderRules"] == DEFAULT_NIFTI_HEADER_RULES
