import numpy as np
import pytest
import torch

import synthetic
from daft_train.data.cache import build_cache
from daft_train.data.preprocess import mask_to_target, preprocess_image, scale_boxes
from daft_train.data.reader import load_case, open_dataset
from daft_train.data.training_data import O_LONG, SampleStore, jitter_boxes, random_flips, unpack_masks


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    dirs = synthetic.make_three_modalities(str(root), ct_count=8)
    cache_root = str(root / "cache")
    caches = [build_cache(d, cache_root, workers=1, log=lambda m: None) for d in dirs]
    return dirs, caches


def test_cache_matches_preprocessing_of_the_reader(datasets):
    dirs, caches = datasets
    for data_dir, cache_dir in zip(dirs[:2], caches[:2]):
        info = open_dataset(data_dir)
        store = SampleStore([cache_dir], "train", 0, torch.device("cpu"))
        arr = store.datasets[0]
        case_index = int(arr.samples[0, 0])
        case = load_case(info, info.cases[case_index])
        expected = preprocess_image(case.image)
        got = arr.images[0].permute(2, 0, 1).float().numpy() / 255.0
        np.testing.assert_allclose(np.broadcast_to(got, expected.shape), expected, atol=0.5 / 255 + 1e-6)
        batch = store.make_batch(store.eval_plan(64)[:1], 1, None, augment=False)
        h, w = case.label.shape
        for k, obj in enumerate(case.objects):
            mask = np.isin(case.label, obj.label_ids)
            assert np.array_equal(batch.masks[0, k].numpy(), mask_to_target(mask)), (info.name, obj.name)
            np.testing.assert_allclose(batch.boxes[0, k].numpy(), scale_boxes(np.array(obj.box), h, w), rtol=1e-5)


def test_3d_slices_hold_per_slice_boxes_and_volume_object_ids(datasets):
    dirs, caches = datasets
    store = SampleStore([caches[2]], "train", 0, torch.device("cpu"))
    arr = store.datasets[0]
    # every 3D object's slices: 'a' spans 4 slices, 'b' 6 slices (z in 1..6) for every train volume
    per_volume = {}
    for row in arr.objects:
        per_volume.setdefault((int(arr.samples[int(row[0]), 0]), int(row[1])), set()).add(int(arr.samples[int(row[0]), 1]))
    assert sorted(len(v) for v in per_volume.values()) == sorted([4, 6] * (len(per_volume) // 2))
    assert all(v in ({2, 3, 4, 5}, {1, 2, 3, 4, 5, 6}) for v in per_volume.values())
    rng = np.random.default_rng(0)
    plan = store.epoch_plan(rng, 3, all_slices=False)
    assert len(plan) == len(store.volumes)  # one slice per volume per epoch
    assert len(store.epoch_plan(rng, 3, all_slices=True)) == store.num_samples


def test_augmentations_keep_boxes_and_masks_consistent(datasets):
    _, caches = datasets
    store = SampleStore([caches[0]], "train", 0, torch.device("cpu"))
    gen = torch.Generator().manual_seed(0)
    plan = store.epoch_plan(np.random.default_rng(1), 2, False)
    for _ in range(4):
        batch = store.make_batch(plan[:4], 2, gen, augment=True, jitter_px=5)
        for b in range(batch.images.shape[0]):
            for k in range(int(batch.valid[b].sum())):
                ys, xs = np.nonzero(batch.masks[b, k].numpy())
                x0, y0, x1, y1 = batch.boxes[b, k].tolist()
                # the (jittered, flipped) box still contains the mask, give or take one original pixel (the max
                # corner is scaled as a coordinate while its pixel covers up to 256/70 ≈ 3.7 px) plus resize rounding
                assert x0 <= xs.min() + 1 and y0 <= ys.min() + 1 and x1 >= xs.max() - 5 and y1 >= ys.max() - 5
                # and is at most 5 model-frame px (+ 1 of rounding) larger on each side: jitter is counted in
                # the frame the model sees, whatever the image's size
                assert xs.min() - x0 <= 6 and x1 - xs.max() <= 6 and ys.min() - y0 <= 6 and y1 - ys.max() <= 6


def test_jitter_and_flip_primitives():
    boxes = torch.tensor([[10.0, 10.0, 20.0, 20.0], [0.0, 0.0, 99.0, 49.0]])
    gen = torch.Generator().manual_seed(3)
    out = jitter_boxes(boxes, 5, 49.0, 99.0, gen)
    grow = (out - boxes) * torch.tensor([-1.0, -1.0, 1.0, 1.0])
    assert (grow >= 0).all() and (grow <= 5).all()
    assert out[1].tolist() == [0.0, 0.0, 99.0, 49.0]  # clamped to the image
    img = torch.zeros(3, 256, 256)
    img[:, 0, 0] = 1.0
    mask = torch.zeros(1, 256, 256, dtype=torch.bool)
    mask[0, 0, 0] = True
    box = torch.tensor([[0.0, 0.0, 0.0, 0.0]])
    torch.manual_seed(0)
    for seed in range(8):
        g = torch.Generator().manual_seed(seed)
        i2, b2, m2 = random_flips(img, box, mask, 128, 256, 50, 100, g)
        ys, xs = torch.nonzero(m2[0], as_tuple=True)
        # flipped inside the unpadded 128 x 256 region: the pixel stays in it, padding stays bottom/right
        assert int(ys) in (0, 127) and int(xs) in (0, 255)
        assert i2[0, ys, xs] == 1.0
        assert abs(float(b2[0, 0]) - float(xs)) < 3 and abs(float(b2[0, 1]) - float(ys)) < 3


def test_zoom_crops_for_small_objects(datasets):
    _, caches = datasets
    store = SampleStore([caches[1]], "train", 0, torch.device("cpu"))
    arr = store.datasets[0]
    assert (arr.objects[:, O_LONG] < 32).all()  # 300 px images with 8-18 px blobs
    plan = store.epoch_plan(np.random.default_rng(0), 4, False)
    gen = torch.Generator().manual_seed(0)
    plain = store.make_batch(plan[:2], 4, gen, augment=False)
    zoomed = store.make_batch(plan[:2], 4, gen, augment=True, zoom_probability=1.0, zoom_small_side=32.0)
    for b in range(2):
        area_plain = plain.masks[b, 0].sum().item()
        area_zoom = zoomed.masks[b, 0].sum().item()
        assert area_zoom > 4 * area_plain  # the object fills k = 4..10 x its size, i.e. >= 25x smaller crop
        ys, xs = np.nonzero(zoomed.masks[b, 0].numpy())
        x0, y0, x1, y1 = zoomed.boxes[b, 0].tolist()
        # the box's max corner is x1 · scale while its pixel spans up to (x1 + 1) · scale (scale ≤ 256 / 32)
        assert x0 <= xs.min() + 1 and x1 >= xs.max() - 8 and y0 <= ys.min() + 1 and y1 >= ys.max() - 8
        # jitter in model-frame px, not original px (which the ×8–×30 zoom would blow up to 40+ px)
        assert xs.min() - x0 <= 6 and x1 - xs.max() <= 6 and ys.min() - y0 <= 6 and y1 - ys.max() <= 6
        assert float(zoomed.images[b].min()) == 0.0 and abs(float(zoomed.images[b].max()) - 1.0) < 1e-5


def test_unpack_masks_roundtrip():
    rng = np.random.default_rng(0)
    m = rng.random((3, 256, 256)) > 0.5
    packed = torch.from_numpy(np.packbits(m, axis=2))
    assert np.array_equal(unpack_masks(packed).numpy(), m)
