import os

import numpy as np
import pytest
import torch

import synthetic
from daft_train.data.cache import build_cache, propagation_prompt
from daft_train.data.preprocess import mask_to_target, preprocess_image, scale_boxes
from daft_train.data.reader import load_case, open_dataset
from daft_train.data.training_data import (O_INDEX, O_LONG, O_OX0, O_OY1, O_PWIDEN, O_PX0, O_PY1, O_VX0, O_VY1, S_H,
                                           S_OH, S_OW, S_SLICE, S_W, SampleStore, jitter_boxes, propagation_boxes,
                                           random_flips, random_intensity, unpack_masks)


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


def test_random_intensity_is_a_monotone_remap_of_the_unpadded_region_to_0_1():
    g = torch.Generator().manual_seed(0)
    img = torch.zeros(3, 256, 256)
    img[:, :100, :200] = torch.rand(1, 100, 200, generator=g).expand(3, -1, -1) * 0.8 + 0.1
    changed = 0
    for seed in range(6):
        out = random_intensity(img, 100, 200, torch.Generator().manual_seed(seed), probability=1.0)
        region, before = out[0, :100, :200].flatten(), img[0, :100, :200].flatten()
        assert float(region.min()) == 0.0 and abs(float(region.max()) - 1.0) < 1e-6  # min-max again, as inference
        assert torch.equal(out[0], out[1]) and torch.equal(out[0], out[2])  # one remap for all channels
        assert torch.equal(out[:, 100:], img[:, 100:]) and torch.equal(out[:, :, 200:], img[:, :, 200:])  # padding
        order = torch.argsort(before)
        assert (region[order].diff() >= -1e-6).all()  # gamma and clipped contrast keep the order of intensities
        changed += int(not torch.allclose(region, (before - before.min()) / (before.max() - before.min()), atol=1e-3))
    assert changed >= 5
    assert random_intensity(img, 100, 200, torch.Generator().manual_seed(0), probability=0.0) is img


def test_intensity_augmentation_off_leaves_batches_and_random_stream_unchanged(datasets):
    _, caches = datasets
    store = SampleStore([caches[0]], "train", 0, torch.device("cpu"))
    plan = store.epoch_plan(np.random.default_rng(0), 2, False)
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    a = store.make_batch(plan[:3], 2, g1, augment=True)
    b = store.make_batch(plan[:3], 2, g2, augment=True, intensity_probability=0.0)
    assert torch.equal(a.images, b.images) and torch.equal(g1.get_state(), g2.get_state())
    # one image: its intensity draws come after its flips and jitter, so only the pixels change
    a1 = store.make_batch(plan[:1], 2, torch.Generator().manual_seed(3), augment=True)
    c = store.make_batch(plan[:1], 2, torch.Generator().manual_seed(3), augment=True, intensity_probability=1.0)
    assert torch.equal(a1.masks, c.masks) and torch.equal(a1.boxes, c.boxes) and not torch.equal(a1.images, c.images)


def _per_image_batch(store, entries, k, g, zoom_probability, propagation_probability, intensity_probability):
    """The oracle: every image assembled on its own with the per-image primitives, in the order make_batch draws."""
    images, boxes, masks, valid = [], [], [], []
    for e in entries:
        arr = store.datasets[e.dataset]
        obj = arr.objects[e.rows]
        crop = None
        if obj[0, O_LONG] < 32 and float(torch.rand((), generator=g)) < zoom_probability:
            crop = store._zoom(e, g, 5, (4.0, 10.0))
        if crop is not None:
            img, bx, mk = crop
            h = w = 256
        else:
            img = arr.images[e.sample].permute(2, 0, 1).float() / 255.0
            img = img.expand(3, -1, -1) if img.shape[0] == 1 else img
            mk = unpack_masks(arr.masks[e.rows])
            s = arr.samples[e.sample]
            oh, ow, h, w = int(s[S_OH]), int(s[S_OW]), int(s[S_H]), int(s[S_W])
            scale = 256 / max(oh, ow)
            bx = jitter_boxes(torch.from_numpy(obj[:, O_OX0 : O_OY1 + 1].copy()) * scale, 5, (oh - 1) * scale, (ow - 1) * scale, g)
            if s[S_SLICE] >= 0:
                use = torch.tensor([float(torch.rand((), generator=g)) < propagation_probability for _ in range(len(obj))])
                bx = torch.where(use[:, None], torch.from_numpy(propagation_boxes(obj, scale, oh, ow)), bx)
            img, bx, mk = random_flips(img, bx, mk, h, w, oh, ow, g)
        img = random_intensity(img, h, w, g, intensity_probability)
        pad = k - len(bx)
        images.append(img)
        boxes.append(torch.cat([bx, bx[:1].expand(pad, 4)]))
        masks.append(torch.cat([mk, mk[:1].expand(pad, -1, -1)]))
        valid.append(torch.arange(k) < len(bx))
    return torch.stack(images), torch.stack(boxes), torch.stack(masks), torch.stack(valid)


def test_batch_assembly_on_the_device_equals_assembling_image_by_image(datasets):
    """make_batch gathers, flips and remaps all plain images at once; zoomed crops, 3D propagation prompts and the
    random stream come out as if each image had been assembled on its own."""
    _, caches = datasets
    store = SampleStore(caches, "train", 0, torch.device("cpu"))
    kinds = set()
    for seed in range(4):
        plan = store.epoch_plan(np.random.default_rng(seed), 3, False)[:10]
        for e in plan:
            arr = store.datasets[e.dataset]
            kinds |= {"3d"} if arr.samples[e.sample, S_SLICE] >= 0 else {"small"} if arr.objects[e.rows[0], O_LONG] < 32 else {"2d"}
        options = dict(zoom_probability=0.5, propagation_probability=0.5, intensity_probability=0.5)
        g1, g2 = torch.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)
        batch = store.make_batch(plan, 3, g1, augment=True, jitter_px=5, **options)
        images, boxes, masks, valid = _per_image_batch(store, plan, batch.boxes.shape[1], g2, **options)
        assert torch.equal(g1.get_state(), g2.get_state())
        assert torch.allclose(batch.images, images, atol=1e-6) and torch.equal(batch.boxes, boxes)
        assert torch.equal(batch.masks, masks) and torch.equal(batch.valid, valid)
        assert batch.datasets == [e.dataset for e in plan]
    assert kinds == {"3d", "small", "2d"}


def test_batched_flips_and_remaps_equal_the_per_image_ones():
    """augment_pixels' GPU path (one gather, one remap for the batch) against its CPU path (image by image)."""
    from daft_train.data.augment import augment_pixels

    gen = torch.Generator().manual_seed(0)
    images = torch.rand(5, 3, 256, 256, generator=gen)
    masks = torch.rand(5, 4, 256, 256, generator=gen) > 0.7
    heights, widths = [256, 120, 200, 256, 77], [256, 256, 90, 31, 256]
    for i, (h, w) in enumerate(zip(heights, widths)):  # padding bottom/right is zero, as in the cache
        images[i, :, h:], images[i, :, :, w:], masks[i, :, h:], masks[i, :, :, w:] = 0, 0, False, False
    flips = [(True, False), (False, True), (True, True), (False, False), (True, True)]
    remaps = {1: (0.8, 1.2), 2: (1.4, 1.0), 4: (0.7, 1.5)}
    a_img, a_mask = augment_pixels(images.clone(), masks.clone(), flips, heights, widths, remaps, batched=False)
    b_img, b_mask = augment_pixels(images.clone(), masks.clone(), flips, heights, widths, remaps, batched=True)
    assert torch.equal(a_mask, b_mask) and torch.allclose(a_img, b_img, atol=1e-6)
    assert torch.equal(a_img[3], images[3]) and not torch.equal(a_img[0], images[0])  # untouched / flipped
    assert not a_img[2, :, 200:].any() and not a_mask[4, :, :, 256:].any()  # padding stays where it was


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


def test_propagation_prompt_is_what_the_engines_walk_gives_each_slice():
    xy = (10, 20, 40, 50)
    boxes = {3: (15, 25, 30, 40), 4: (12, 22, 35, 45), 5: (11, 21, 38, 48), 7: (20, 30, 25, 35)}
    # object z 3..8 (3D box), middle int((8 - 3) / 2 + 3) = 5: prompted with the 3D box's xy extent
    assert propagation_prompt(5, 3, 8, xy, boxes) == (*xy, 0)
    # above the middle from the slice below, below the middle from the slice above, widened (flag 1)
    assert propagation_prompt(6, 3, 8, xy, boxes) == (*boxes[5], 1)
    assert propagation_prompt(4, 3, 8, xy, boxes) == (*boxes[5], 1)
    assert propagation_prompt(3, 3, 8, xy, boxes) == (*boxes[4], 1)
    # the neighbour closer to the middle has no mask (slice 6): the engine falls back to the original box
    assert propagation_prompt(7, 3, 8, xy, boxes) == (*xy, 0)


def test_propagation_boxes_match_the_engine():
    # a 64 x 64 slice (scale 4): neighbour mask box x 28..40, y 24..36 → frame pixels overlapped 112..163, 96..147,
    # ± 3 px (segmentVolume.test.ts), then clamped to the 3D box's xy extent 26..44 x 20..39 (×4)
    row = np.zeros((2, 20), dtype=np.float32)
    row[:, O_VX0 : O_VY1 + 1] = [26, 20, 44, 39]
    row[0, O_PX0 : O_PY1 + 1] = [28, 24, 40, 36]
    row[0, O_PWIDEN] = 1
    row[1, O_PX0 : O_PY1 + 1] = [26, 20, 44, 39]  # middle slice: the 3D box itself, not widened
    out = propagation_boxes(row, 4.0, 64, 64)
    assert out[0].tolist() == [109.0, 93.0, 166.0, 150.0]
    assert out[1].tolist() == [104.0, 80.0, 176.0, 156.0]
    row[0, O_PX0 : O_PY1 + 1] = [26, 20, 44, 39]  # widening past the 3D box is cut back to it
    assert propagation_boxes(row, 4.0, 64, 64)[0].tolist() == [104.0, 80.0, 176.0, 156.0]


def test_3d_validation_prompts_as_inference_does_and_training_mixes_both(datasets):
    _, caches = datasets
    store = SampleStore([caches[2]], "train", 0, torch.device("cpu"))
    arr = store.datasets[0]
    widened = arr.objects[:, O_PWIDEN] > 0
    assert widened.any() and (~widened).any()  # middle slices and the others
    # the 3D box's xy extent contains every slice's own box
    assert (arr.objects[:, O_VX0 : O_VX0 + 2] <= arr.objects[:, O_OX0 : O_OX0 + 2]).all()
    assert (arr.objects[:, O_VX0 + 2 : O_VY1 + 1] >= arr.objects[:, O_OX0 + 2 : O_OY1 + 1]).all()
    plan = store.eval_plan(64)
    batch = store.make_batch(plan, 1, None, augment=False)
    for b, e in enumerate(plan):
        s = arr.samples[e.sample]
        assert s[S_SLICE] >= 0
        scale = 256 / max(int(s[4]), int(s[5]))
        expected = propagation_boxes(arr.objects[e.rows], scale, int(s[4]), int(s[5]))
        np.testing.assert_allclose(batch.boxes[b, : len(e.rows)].numpy(), expected, rtol=1e-6)
    # training: with probability 0 every box is the object's own box, with 1 the engine's prompt (compared by
    # width and height, which the random flips keep)
    gen = torch.Generator().manual_seed(0)
    sizes = lambda boxes: np.stack([boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]], axis=1)
    for probability in (0.0, 1.0):
        batch = store.make_batch(plan, 1, gen, augment=True, jitter_px=0, propagation_probability=probability)
        for b, e in enumerate(plan):
            s = arr.samples[e.sample]
            scale = 256 / max(int(s[4]), int(s[5]))
            if probability:
                expected = propagation_boxes(arr.objects[e.rows], scale, int(s[4]), int(s[5]))
            else:
                expected = arr.objects[e.rows][:, O_OX0 : O_OY1 + 1] * scale
            np.testing.assert_allclose(sizes(batch.boxes[b, : len(e.rows)].numpy()), sizes(expected), atol=1e-4)
    # (the synthetic objects are cuboids, so that prompt is their own box; a 3D box larger than the object on
    # some slices makes the prompts differ, and the batch follows them)
    arr.objects[:, O_VX0 : O_VX0 + 2] = np.maximum(arr.objects[:, O_VX0 : O_VX0 + 2] - 4, 0)
    arr.objects[:, O_VX0 + 2 : O_VY1 + 1] += 4
    middle = arr.objects[:, O_PWIDEN] == 0
    arr.objects[middle, O_PX0 : O_PY1 + 1] = arr.objects[middle, O_VX0 : O_VY1 + 1]
    batch = store.make_batch(plan, 1, gen, augment=True, jitter_px=0, propagation_probability=1.0)
    for b, e in enumerate(plan):
        s = arr.samples[e.sample]
        scale = 256 / max(int(s[4]), int(s[5]))
        own = sizes(arr.objects[e.rows][:, O_OX0 : O_OY1 + 1] * scale)
        got = sizes(batch.boxes[b, : len(e.rows)].numpy())
        assert (got >= own + 5).all()  # widened by 3 px a side, or the 3D box: 4 original px a side
    assert {int(arr.objects[e.rows[0], O_INDEX]) for e in plan} == {0, 1}


def test_validation_zoom_tiles_follow_the_engines_grid_and_score_each_object_once(datasets):
    from daft_train.data.training_data import tile_origin
    from daft_train.evaluate import evaluate_segmentation
    from daft_train.config import get_config
    from daft_train.models.sam import build_student
    from daft_train.runtime import Runtime

    # smallObjectZoom.ts: side 64 on a 300 px axis → origins 0, 32, …, 224 and 236; the box 100..110 (centre
    # 105.5) fits in 64 (centre 96) and 96 (centre 128): the nearer is 64
    assert tile_origin(100, 110, 64, 300) == 64
    assert tile_origin(290, 299, 64, 300) == 236  # the last tile is flush with the edge
    assert tile_origin(5, 20, 400, 300) == 0
    _, caches = datasets
    store = SampleStore([caches[1]], "val", 0, torch.device("cpu"))
    arr = store.datasets[0]
    tiles, covered = store.zoom_tiles(32.0, 5.0)
    assert covered == {(0, r) for r in range(len(arr.objects))}  # 8–18 px blobs on 300 px images: all small
    assert sorted(r for t in tiles for r in t.rows) == list(range(len(arr.objects)))  # each object on one tile
    for t in tiles:
        for r in t.rows:
            x0, y0, x1, y1 = arr.objects[r, O_OX0 : O_OY1 + 1]
            assert t.x0 <= x0 and t.y0 <= y0 and x1 < t.x0 + t.side and y1 < t.y0 + t.side
    batch = store.make_tile_batch(tiles[:3])
    for b, t in enumerate(tiles[:3]):
        for k in range(len(t.rows)):
            ys, xs = np.nonzero(batch.masks[b, k].numpy())
            x0, y0, x1, y1 = batch.boxes[b, k].tolist()
            assert len(xs) > 100  # zoomed: a 10 px blob covers hundreds of frame pixels
            assert x0 <= xs.min() + 1 and y0 <= ys.min() + 1 and x1 >= xs.max() - 8 and y1 >= ys.max() - 8
    cfg = get_config("tiny")
    torch.manual_seed(0)
    model = build_student(cfg.model)
    runtime = Runtime(torch.device("cpu"))
    whole = evaluate_segmentation(model, store, runtime, 4)
    zoomed = evaluate_segmentation(model, store, runtime, 4, zoom=(32.0, 5.0))
    assert whole["objects"] == zoomed["objects"] == len(arr.objects)  # each object scored once, either way
    assert whole["dsc"] != zoomed["dsc"]


def test_validation_zoom_leaves_3d_slices_to_their_propagation_prompts(datasets):
    _, caches = datasets
    store = SampleStore([caches[2]], "train", 0, torch.device("cpu"))
    assert (store.datasets[0].objects[:, O_LONG] < 1000).all()
    tiles, covered = store.zoom_tiles(1000.0, 5.0)  # every object "small": still none zoomed, as in the engine
    assert tiles == [] and covered == set()


def test_cache_key_follows_contents_not_modification_times(tmp_path):
    from daft_train.data.cache import cache_key

    data_dir = synthetic.make_2d_regions(str(tmp_path), count=4)
    info = open_dataset(data_dir)
    key = cache_key(info)
    case = info.cases[0]
    os.utime(case.image_path, (1, 1))  # a copy or a re-mount: new times, same bytes
    assert cache_key(open_dataset(data_dir)) == key
    with open(case.label_path, "ab") as f:  # an edited label invalidates the cache
        f.write(b"\0")
    assert cache_key(open_dataset(data_dir)) != key


def test_half_target_rule_cache_is_its_own_cache_and_cuts_every_target_by_the_rule(datasets, tmp_path):
    from daft_train.data.cache import cache_dir_for, find_cache_of

    dirs, caches = datasets
    data_dir = dirs[1]  # small blobs: the zoomed crops' targets come from the originals
    cache_root = os.path.dirname(caches[1])
    half_dir = build_cache(data_dir, cache_root, workers=1, log=lambda m: None, target_rule="half")
    info = open_dataset(data_dir)
    assert half_dir != caches[1] and half_dir == cache_dir_for(cache_root, info, "half")
    assert caches[1] == cache_dir_for(cache_root, info)  # the default rule keeps its key
    assert find_cache_of(cache_root, data_dir, "half") == half_dir and find_cache_of(cache_root, data_dir) == caches[1]
    store = SampleStore([half_dir], "train", 0, torch.device("cpu"))
    arr = store.datasets[0]
    assert arr.target_rule == "half"
    plan = store.eval_plan(64)[:2]
    batch = store.make_batch(plan, 4, None, augment=False)
    for b, entry in enumerate(plan):
        case = load_case(info, info.cases[int(arr.samples[entry.sample, 0])])
        for k, row in enumerate(entry.rows[:4]):
            obj = case.objects[int(arr.objects[row, O_INDEX])]
            mask = np.isin(case.label, obj.label_ids)
            assert np.array_equal(batch.masks[b, k].numpy(), mask_to_target(mask, rule="half"))
            assert batch.masks[b, k].sum() < mask_to_target(mask).sum()  # blobs lose their part-covered rim
    gen = torch.Generator().manual_seed(0)
    zoomed = store.make_batch(plan, 4, gen, augment=True, zoom_probability=1.0, zoom_small_side=32.0)
    plain_any = SampleStore([caches[1]], "train", 0, torch.device("cpu")).make_batch(
        plan, 4, torch.Generator().manual_seed(0), augment=True, zoom_probability=1.0, zoom_small_side=32.0)
    assert torch.equal(zoomed.images, plain_any.images)  # same crops, same random stream
    assert (zoomed.masks[:, 0].sum(dim=(1, 2)) < plain_any.masks[:, 0].sum(dim=(1, 2))).all()
    with pytest.raises(ValueError, match="target rule"):
        build_cache(data_dir, cache_root, workers=1, log=lambda m: None, target_rule="most")
