import glob
import json
import os

import pytest

from conftest import REPO_ROOT
from daft_train.export.manifest import (
    DEFAULT_FILENAME_RULES,
    ManifestError,
    load_manifest,
    modality_from_filename,
    validate_manifest,
)

FIXTURES = os.path.join(REPO_ROOT, "fixtures", "manifest")


def test_valid_fixture_validates_and_gets_defaults():
    m = load_manifest(os.path.join(FIXTURES, "valid.json"))
    assert m["fallback"] == "general" and len(m["experts"]) == 3
    raw = json.load(open(os.path.join(FIXTURES, "valid.json")))
    del raw["routing"]
    assert validate_manifest(raw)["routing"] == {"filenameRules": [], "metadataModalities": {}}


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
