import os

import numpy as np
import pytest

from conftest import REPO_ROOT
from daft_train.data.preprocess import (
    area_resize,
    mask_to_target,
    preprocess_image,
    resized_size,
    scale_boxes,
    volume_to_uint8,
)

VECTORS = os.path.join(REPO_ROOT, "fixtures", "preprocess", "vectors.npz")


def brute_force_area(x: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Box filter by replication: repeat each source pixel dst times, then average runs of src values."""
    h, w = x.shape
    rep = np.repeat(np.repeat(x.astype(np.float64), out_h, axis=0), out_w, axis=1)
    return rep.reshape(out_h, h, out_w, w).mean(axis=(1, 3))


@pytest.mark.parametrize("src,dst", [((30, 20), (25, 17)), ((10, 7), (26, 18)), ((13, 29), (5, 11)), ((6, 6), (6, 6))])
def test_area_resize_is_the_exact_box_filter(src, dst):
    rng = np.random.default_rng(0)
    x = rng.normal(size=src)
    np.testing.assert_allclose(area_resize(x, *dst), brute_force_area(x, *dst), rtol=0, atol=1e-10)


def test_area_resize_integer_cases():
    x = np.arange(16, dtype=np.float64).reshape(4, 4)
    np.testing.assert_allclose(area_resize(x, 2, 2), [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_allclose(area_resize(x[:2, :2], 4, 4), np.repeat(np.repeat(x[:2, :2], 2, 0), 2, 1))


def test_resized_size_rounds_half_up_and_keeps_one_pixel():
    assert resized_size(300, 200) == (256, 171)
    assert resized_size(40, 700) == (15, 256)
    assert resized_size(100, 37) == (256, 95)
    assert resized_size(1, 1000) == (1, 256)


def test_preprocess_matches_committed_vectors():
    vectors = np.load(VECTORS)
    names = sorted({k.split("__")[0] for k in vectors.files})
    assert {"grey_300x200", "rgb_100x37", "grey_256x256", "grey_40x700", "constant_64x80"} <= set(names)
    for name in names:
        image = vectors[f"{name}__input"]
        expected = vectors[f"{name}__expected"]
        got = preprocess_image(image)
        assert got.shape == (3, 256, 256) and got.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6, err_msg=name)
        h, w = vectors[f"{name}__resized_hw"]
        assert got[:, h:, :].max(initial=0) == 0 and got[:, :, w:].max(initial=0) == 0


def test_preprocess_properties():
    grey = np.random.default_rng(1).integers(0, 256, size=(300, 200)).astype(np.uint8)
    out = preprocess_image(grey)
    assert np.array_equal(out[0], out[1]) and np.array_equal(out[1], out[2])
    assert out[:, :256, :171].min() == 0.0 and abs(out[:, :256, :171].max() - 1.0) < 1e-6
    assert preprocess_image(np.full((20, 30), 9, np.uint8)).max() == 0.0
    rgb = np.zeros((10, 10, 3), np.uint8)
    rgb[..., 0] = 200
    out_rgb = preprocess_image(rgb)
    assert out_rgb[0, 0, 0] == 1.0 and out_rgb[1, 0, 0] == 0.0


def test_boxes_and_masks_to_256():
    np.testing.assert_allclose(scale_boxes(np.array([[10, 20, 199, 299]]), 300, 200), [[10 * 256 / 300, 20 * 256 / 300, 199 * 256 / 300, 299 * 256 / 300]], rtol=1e-6)
    mask = np.zeros((512, 512), np.uint8)
    mask[100, 100] = 1  # a single pixel survives the shrink (area > 0)
    m = mask_to_target(mask)
    assert m.dtype == bool and m.shape == (256, 256) and m.sum() == 1 and m[50, 50]
    wide = np.ones((40, 700), np.uint8)
    m2 = mask_to_target(wide)
    assert m2[:15, :].all() and not m2[15:, :].any()


def test_volume_to_uint8():
    vol = np.linspace(-1000, 3000, 1000).reshape(10, 10, 10)
    u = volume_to_uint8(vol)
    assert u.dtype == np.uint8 and u.min() == 0 and u.max() == 255
    assert volume_to_uint8(np.ones((3, 4, 5))).max() == 0


def test_half_target_rule_keeps_pixels_at_least_half_inside_and_never_loses_an_object():
    from daft_train.data.preprocess import coverage_to_target

    # 512 → 256: frame pixel i covers source pixels 2i and 2i + 1
    square = np.zeros((512, 512), np.uint8)
    square[100:111, 100:111] = 1  # frame 50..54 full; row/col 55 half inside (source 110 in, 111 out); corner 1/4
    assert mask_to_target(square).sum() == 36
    half = mask_to_target(square, rule="half")
    assert half.sum() == 35 and half[55, 54] and half[54, 55] and not half[55, 55]
    odd = np.zeros((512, 512), np.uint8)
    odd[101:109, 101:109] = 1  # frame 50 and 54 half inside per axis: the 4 corners are a quarter inside
    assert mask_to_target(odd).sum() == 25 and mask_to_target(odd, rule="half").sum() == 21
    lone = np.zeros((512, 512), np.uint8)
    lone[101, 101] = 1  # a quarter of frame pixel (50, 50): under "half" it would vanish; the most covered stays
    assert mask_to_target(lone, rule="half").sum() == 1 and mask_to_target(lone, rule="half")[50, 50]
    cov = area_resize(odd.astype(np.float64), 256, 256)
    np.testing.assert_array_equal(coverage_to_target(cov, "any"), cov > 0)
    assert not coverage_to_target(np.zeros((4, 4)), "half").any()
    with pytest.raises(ValueError, match="target rule"):
        coverage_to_target(cov, "most")
