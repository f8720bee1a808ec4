import json
import os

import nibabel as nib
import numpy as np
import pytest
from PIL import Image

from conftest import REPO_ROOT
from daft_train.data.objects import extract_objects, object_specs
from daft_train.data.reader import DatasetError, load_case, open_dataset, read_image_2d

MINI = os.path.join(REPO_ROOT, "fixtures", "dataset-mini")


def test_reader_matches_dataset_mini_expected():
    expected = json.load(open(os.path.join(MINI, "expected.json")))
    assert expected["seed"] == 0
    for dataset, cases in expected["datasets"].items():
        info = open_dataset(os.path.join(MINI, dataset), seed=0)
        assert info.name == dataset
        assert sorted(c.case for c in info.cases) == sorted(cases)
        for ref in info.cases:
            want = cases[ref.case]
            loaded = load_case(info, ref)
            assert ref.split == want["split"], ref.case
            assert list(loaded.image.shape) == want["shape"], ref.case
            assert [o.name for o in loaded.objects] == want["objects"], ref.case
            assert [list(o.box) for o in loaded.objects] == want["boxes"], ref.case
            if "spacing" in want:
                np.testing.assert_allclose(loaded.spacing, want["spacing"], rtol=1e-6)
            if loaded.image.ndim == 3 and info.dimension == 3:
                assert loaded.image.dtype == np.uint8


def test_object_order_regions_first_and_drop_rules():
    labels = {"background": 0, "necrosis": 1, "edema": 2, "whole": [1, 2, 3], "core": [1, 3], "other": 3}
    assert [s.name for s in object_specs(labels)] == ["whole", "core", "necrosis", "edema", "other"]
    lab = np.zeros((10, 12), np.int64)
    lab[1:3, 1:4] = 1
    lab[5:8, 2:9] = 2
    # label 3 absent: "other" is empty and dropped; "core" = {1} is covered by necrosis -> dropped;
    # "whole" is covered by necrosis ∪ edema -> dropped
    objs = extract_objects(lab, labels, False)
    assert [(o.name, o.box) for o in objs] == [("necrosis", (1, 1, 3, 2)), ("edema", (2, 5, 8, 7))]
    # drishti-like: disc = rim ∪ cup keeps, cup follows
    lab2 = np.zeros((10, 10), np.int64)
    lab2[2:8, 2:8] = 1
    lab2[4:6, 4:6] = 2
    objs2 = extract_objects(lab2, {"background": 0, "disc": [1, 2], "cup": 2}, False)
    assert [(o.name, o.label_ids, o.box) for o in objs2] == [("disc", (1, 2), (2, 2, 7, 7)), ("cup", (2,), (4, 4, 5, 5))]


def test_instances_3d_and_boxes():
    lab = np.zeros((4, 6, 8), np.int64)
    lab[1:3, 2:4, 5:7] = 9
    lab[0, 0, 0] = 2
    objs = extract_objects(lab, {"background": 0, "cell": "ids"}, True)
    assert [(o.name, o.box) for o in objs] == [("cell_2", (0, 0, 0, 0, 0, 0)), ("cell_9", (5, 2, 1, 6, 3, 2))]


def write_dataset(root, name, labels, cases, instance=False, dimension=2):
    os.makedirs(os.path.join(root, "images"), exist_ok=True)
    os.makedirs(os.path.join(root, "labels"), exist_ok=True)
    entries = []
    for case, (image, label) in cases.items():
        if dimension == 2:
            Image.fromarray(image).save(os.path.join(root, "images", f"{case}.png"))
            Image.fromarray(label).save(os.path.join(root, "labels", f"{case}.png"))
            entries.append({"image": f"images/{case}.png", "label": f"labels/{case}.png"})
        else:
            aff = np.diag([1.0, 2.0, 3.0, 1.0])
            nib.save(nib.Nifti1Image(image, aff), os.path.join(root, "images", f"{case}.nii.gz"))
            nib.save(nib.Nifti1Image(label, aff), os.path.join(root, "labels", f"{case}.nii.gz"))
            entries.append({"image": f"images/{case}.nii.gz", "label": f"labels/{case}.nii.gz"})
    doc = {"name": name, "modality": "X", "dimension": dimension, "labels": labels, "instance_labels": instance, "cases": entries}
    with open(os.path.join(root, "dataset.json"), "w") as f:
        json.dump(doc, f)


def test_rgba_and_16bit_instances(tmp_path):
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[..., 3] = 255
    lab = np.zeros((20, 30), np.uint16)
    lab[2:5, 3:9] = 1000
    lab[10:12, 20:25] = 3
    write_dataset(str(tmp_path), "inst", {"background": 0, "nucleus": "ids"}, {"c_1": (rgba, lab)}, instance=True)
    info = open_dataset(str(tmp_path))
    case = load_case(info, info.cases[0])
    assert case.image.shape == (20, 30, 3)
    assert [(o.name, o.box) for o in case.objects] == [("nucleus_3", (20, 10, 24, 11)), ("nucleus_1000", (3, 2, 8, 4))]


def test_3d_transpose_spacing_and_uint8(tmp_path):
    xyz = np.zeros((8, 6, 4), np.float32)  # (x, y, z)
    xyz[:] = np.arange(8)[:, None, None] * 100.0
    lab = np.zeros((8, 6, 4), np.uint8)
    lab[5:7, 1:3, 2] = 1
    write_dataset(str(tmp_path), "vol", {"background": 0, "a": 1}, {"v_1": (xyz, lab)}, dimension=3)
    info = open_dataset(str(tmp_path))
    case = load_case(info, info.cases[0])
    assert case.image.shape == (4, 6, 8) and case.image.dtype == np.uint8
    assert case.spacing == (3.0, 2.0, 1.0)
    assert case.objects[0].box == (5, 1, 2, 6, 2, 2)
    assert case.image[0, 0, 0] == 0 and case.image[0, 0, 7] == 255


def test_challenge_npz_cases(tmp_path):
    imgs = np.random.default_rng(0).integers(0, 255, (12, 16, 3)).astype(np.uint8)
    gts = np.zeros((12, 16), np.uint8)
    gts[1:3, 2:5] = 1
    gts[6:9, 10:14] = 2
    np.savez_compressed(tmp_path / "2DBox_XRay_demo_0001.npz", imgs=imgs, gts=gts, boxes=np.array([[2, 1, 4, 2], [10, 6, 13, 8]]))
    info = open_dataset(str(tmp_path))
    ref = info.cases[0]
    assert (ref.modality, ref.dimension, ref.case) == ("XRay", 2, "2DBox_XRay_demo_0001")
    case = load_case(info, ref)
    assert [o.box for o in case.objects] == [(2, 1, 4, 2), (10, 6, 13, 8)]


def test_challenge_npz_3d_without_prefix(tmp_path):
    imgs = np.random.default_rng(0).integers(0, 255, (5, 12, 16)).astype(np.uint8)
    gts = np.zeros((5, 12, 16), np.uint8)
    gts[1:4, 2:5, 6:9] = 1
    np.savez_compressed(tmp_path / "case_CT_7.npz", imgs=imgs, gts=gts, spacing=np.array([2.5, 0.8, 0.8]))
    info = open_dataset(str(tmp_path))
    ref = info.cases[0]
    assert (ref.modality, ref.dimension) == ("CT", 3)
    case = load_case(info, ref)
    assert case.objects[0].box == (6, 2, 1, 8, 4, 3) and case.spacing == (2.5, 0.8, 0.8)


def test_bad_inputs_give_one_line_errors_naming_the_file(tmp_path):
    with pytest.raises(DatasetError, match="no dataset.json"):
        open_dataset(str(tmp_path))
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(DatasetError) as info:
        read_image_2d(str(bad))
    assert str(info.value).startswith(str(bad)) and "\n" not in str(info.value)
    (tmp_path / "dataset.json").write_text("{not json")
    with pytest.raises(DatasetError, match="dataset.json: not valid JSON"):
        open_dataset(str(tmp_path))


def test_fixture_formats_decode():
    fmt = os.path.join(MINI, "formats")
    assert read_image_2d(os.path.join(fmt, "rgba.png")).shape == (5, 7, 3)
    assert read_image_2d(os.path.join(fmt, "grey_alpha.png")).shape == (5, 7)
    g16 = read_image_2d(os.path.join(fmt, "grey16.png"))
    assert int(g16[4, 6]) == 6 * 9000 + 4 * 1000 + 7
    assert read_image_2d(os.path.join(fmt, "palette.png")).shape == (5, 7, 3)
    with pytest.raises(DatasetError):
        read_image_2d(os.path.join(fmt, "truncated.jpg"))
