"""daft_train pack / unpack on tiny synthetic data: exact round trip, identical splits, budget, lossy bounds."""

import json
import os
import shutil

import numpy as np
import pytest
import torch

import synthetic
from daft_train.cli import main
from daft_train.data.cache import build_cache
from daft_train.data.pack import PackPolicy, decode_image, encode_image, pack_run, read_pack_index, unpack
from daft_train.data.reader import DatasetError
from daft_train.data.splits import split_of
from daft_train.data.training_data import O_SAMPLE, S_FIRST, SampleStore
from daft_train.pipeline import Pipeline

CPU = torch.device("cpu")


def quiet(_message):
    pass


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("pack")
    data = synthetic.make_three_modalities(str(root / "data"), ct_count=14)
    run_dir = str(root / "run")
    assert main(["cache", "--datasets", *data, "--out", run_dir, "--config", "tiny", "--device", "cpu", "--workers", "1"]) == 0
    caches = Pipeline(run_dir, log=quiet).cache_dirs
    return run_dir, data, caches


def lossless_round_trip(run, tmp_path, policy):
    run_dir, _, caches = run
    index = pack_run(run_dir, str(tmp_path / "pack"), policy, max_mib="none", workers=2, log=quiet)
    unpack(str(tmp_path / "pack"), str(tmp_path / "cache"), workers=2, log=quiet)
    return index, [str(tmp_path / "cache" / os.path.basename(c)) for c in caches]


def load(cache_dir):
    with open(os.path.join(cache_dir, "meta.json")) as f:
        meta = json.load(f)
    arrays = {k: np.load(os.path.join(cache_dir, f"{k}.npy")) for k in ("images", "samples", "objects", "masks", "label_ids")}
    return meta, arrays


def test_round_trip_is_exact_and_drops_only_test_cases(run, tmp_path):
    _, _, caches = run
    index, unpacked = lossless_round_trip(run, tmp_path, PackPolicy(val_cap=0, zoom_below=64.0, val_originals=True))
    dropped_test = 0
    for original, packed in zip(caches, unpacked):
        meta, a = load(original)
        new_meta, b = load(packed)
        assert new_meta["dataset"] == meta["dataset"] and new_meta["source"] == meta["source"]
        assert [c["case"] for c in new_meta["cases"]] == [c["case"] for c in meta["cases"]]
        kept = []
        for c, n in zip(meta["cases"], new_meta["cases"]):
            test = split_of(meta["dataset"], c["case"]) == "test"
            assert n["samples"] == (0 if test else c["samples"])
            dropped_test += c["samples"] if test else 0
            kept += [] if test else list(range(c["first_sample"], c["first_sample"] + c["samples"]))
        kept = np.asarray(kept, dtype=int)
        assert np.array_equal(b["images"], a["images"][kept])
        rows = np.concatenate([np.arange(a["samples"][s, S_FIRST], a["samples"][s, S_FIRST] + a["samples"][s, 7]) for s in kept])
        for key in ("masks", "label_ids"):
            assert np.array_equal(b[key], a[key][rows])
        same_columns = [i for i in range(a["samples"].shape[1]) if i != S_FIRST]
        assert np.array_equal(b["samples"][:, same_columns], a["samples"][kept][:, same_columns])
        assert np.array_equal(b["objects"][:, 1:], a["objects"][rows][:, 1:])
        assert np.array_equal(kept[b["objects"][:, O_SAMPLE].astype(int)], a["objects"][rows][:, O_SAMPLE].astype(int))
        originals = sorted(os.listdir(os.path.join(packed, "originals")))
        expected = sorted(f"{i}.npz" for i, s in enumerate(kept) if os.path.exists(os.path.join(original, "originals", f"{s}.npz")))
        assert originals == expected
        for name in originals:
            with np.load(os.path.join(packed, "originals", name)) as z, \
                    np.load(os.path.join(original, "originals", f"{kept[int(name[:-4])]}.npz")) as y:
                assert z["image"].dtype == y["image"].dtype and np.array_equal(z["image"], y["image"])
                assert np.array_equal(z["label"], y["label"])
    assert dropped_test > 0  # the synthetic data has test cases, and they did not travel
    assert sum(e["counts"]["test_dropped"] for e in index["datasets"]) == dropped_test


def test_train_and_val_splits_load_identically(run, tmp_path):
    _, _, caches = run
    _, unpacked = lossless_round_trip(run, tmp_path, PackPolicy(val_cap=0))
    for split in ("train", "val"):
        a = SampleStore(caches, split, 0, CPU)
        b = SampleStore(unpacked, split, 0, CPU)
        assert a.num_samples == b.num_samples > 0 and a.num_objects == b.num_objects
        keys_a = [a.sample_key(d, s) for d, arr in enumerate(a.datasets) for s in range(len(arr.samples))]
        keys_b = [b.sample_key(d, s) for d, arr in enumerate(b.datasets) for s in range(len(arr.samples))]
        assert keys_a == keys_b
        for da, db in zip(a.datasets, b.datasets):
            assert torch.equal(da.images, db.images) and torch.equal(da.masks, db.masks)
            assert np.array_equal(da.objects, db.objects) and np.array_equal(da.samples, db.samples)
    assert SampleStore(unpacked, "test", 0, CPU).num_samples == 0  # test cases are listed with 0 samples


def test_validation_cap_keeps_what_the_loader_would_pick(run, tmp_path):
    _, _, caches = run
    cap = 3
    _, unpacked = lossless_round_trip(run, tmp_path, PackPolicy(val_cap=cap))
    full = SampleStore(caches, "val", 0, CPU, None, max_samples_per_dataset=cap)
    packed = SampleStore(unpacked, "val", 0, CPU)
    assert [len(d.samples) for d in packed.datasets] == [len(d.samples) for d in full.datasets]
    assert max(len(d.samples) for d in packed.datasets) == cap  # the 3D set has more validation slices than that
    for da, db in zip(full.datasets, packed.datasets):
        assert torch.equal(da.images, db.images)


def test_slice_step_keeps_every_object_and_train_fraction_drops_cases(run, tmp_path):
    run_dir, _, caches = run
    names = [json.load(open(os.path.join(c, "meta.json")))["dataset"] for c in caches]
    mr, ct = names[2], names[0]
    policy = PackPolicy(val_cap=0, slice_step={mr: 3}, train_fraction={ct: 0.5})
    index, unpacked = lossless_round_trip(run, tmp_path, policy)
    counts = {e["dataset"]: e["counts"] for e in index["datasets"]}
    assert counts[mr]["train_slices_dropped"] > 0 and counts[ct]["train_cases_dropped"] > 0
    full = SampleStore([caches[2]], "train", 0, CPU)
    packed = SampleStore([unpacked[2]], "train", 0, CPU)
    assert packed.num_samples < full.num_samples
    objects_of = lambda store: {(int(store.datasets[0].samples[int(r[0]), 0]), int(r[1])) for r in store.datasets[0].objects}  # noqa: E731
    assert objects_of(packed) == objects_of(full)  # (case, object) pairs: every object of every volume kept a slice
    assert SampleStore([unpacked[2]], "val", 0, CPU).num_samples == SampleStore([caches[2]], "val", 0, CPU).num_samples


def test_lossy_datasets_stay_close_and_are_reported(run, tmp_path):
    run_dir, _, caches = run
    names = [json.load(open(os.path.join(c, "meta.json")))["dataset"] for c in caches]
    index = pack_run(run_dir, str(tmp_path / "pack"), PackPolicy(lossy={names[1]: 92}, val_cap=0), max_mib="none", log=quiet)
    unpack(str(tmp_path / "pack"), str(tmp_path / "cache"), log=quiet)
    entry = next(e for e in index["datasets"] if e["dataset"] == names[1])
    assert entry["images"] == "jpeg q92" and 0 < entry["pixel_error"]["mean_abs"] < 6  # pure noise: JPEG's worst case
    a = SampleStore([caches[1]], "train", 0, CPU).datasets[0]
    b = SampleStore([str(tmp_path / "cache" / os.path.basename(caches[1]))], "train", 0, CPU).datasets[0]
    assert np.array_equal(a.samples, b.samples) and (a.images.float() - b.images.float()).abs().mean() < 6
    for image, (h, w) in zip(b.images, b.samples[:, 2:4]):
        assert not image[h:].any() and not image[:, w:].any()  # the padding stays zero


def test_over_budget_is_a_clear_error_and_leaves_no_pack(run, tmp_path, capsys):
    run_dir, _, _ = run
    pack_dir = tmp_path / "gpu-pack"
    with pytest.raises(ValueError, match=r"over the budget of 0\.0 MiB; largest: .*--lossy"):
        pack_run(run_dir, str(pack_dir), PackPolicy(), max_mib="0.01", log=quiet)
    assert not pack_dir.exists() and os.listdir(tmp_path) == []
    code = main(["pack", "--out", run_dir, "--pack", str(pack_dir), "--max-mib", "0.01"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "over the budget" in err
    index = pack_run(run_dir, str(pack_dir), PackPolicy(), max_mib="5", log=quiet)
    size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(pack_dir) for f in fs)
    assert size == index["total_bytes"] <= 5 * 2**20
    assert read_pack_index(str(pack_dir))["policy"]["val_cap"] == 400


def test_the_tree_is_measured_on_disk_as_the_device_tool_measures_it(tmp_path):
    """Whole 4 KiB blocks per file and one per folder: session 16's tree and pack, 62.9 MiB by file sizes, were
    refused as over 64 MiB (66.6 MiB on disk)."""
    import subprocess

    from daft_train.data.pack import folder_disk_bytes, repo_tree_bytes

    repo = tmp_path / "repo"
    (repo / "a" / "b").mkdir(parents=True)
    (repo / "one.txt").write_bytes(b"x")
    (repo / "a" / "two.bin").write_bytes(b"y" * 4097)
    (repo / "a" / "b" / "three.txt").write_bytes(b"")
    (repo / ".gitignore").write_text("ignored/\n")
    (repo / "ignored").mkdir()
    (repo / "ignored" / "big.bin").write_bytes(b"z" * 100_000)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "add", "one.txt", "a"], check=True)
    # files: one.txt 1 block, a/two.bin 2, a/b/three.txt 0, untracked .gitignore 1; folders a, a/b and the root
    assert repo_tree_bytes(str(repo)) == 4096 * (1 + 2 + 0 + 1) + 4096 * 3
    assert repo_tree_bytes(str(repo), exclude=str(repo / "a")) == 4096 * 2 + 4096
    assert folder_disk_bytes(str(repo / "a")) == 4096 * 2 + 4096 * 2
    # a folder carried beside the pack (ignored, so not in the tree) comes off the auto budget
    from daft_train.data.pack import TREE_LIMIT_MIB, TREE_MARGIN_MIB, pack_budget

    tree = repo_tree_bytes(str(repo), exclude=str(repo / "gpu-pack"))
    budget, record = pack_budget("auto", str(repo / "gpu-pack"), quiet, beside=(str(repo / "ignored"),))
    assert record["beside_bytes"] == {"ignored": 4096 * 25 + 4096}
    assert budget == (TREE_LIMIT_MIB - TREE_MARGIN_MIB) * 2**20 - tree - 4096 * 26
    with pytest.raises(ValueError, match="--beside names a folder"):
        pack_budget("auto", str(repo / "gpu-pack"), quiet, beside=(str(repo / "missing"),))


def test_a_run_starts_from_the_unpacked_cache_without_the_datasets(run, tmp_path):
    run_dir, data, _ = run
    pack_run(run_dir, str(tmp_path / "pack"), PackPolicy(), max_mib="none", log=quiet)
    unpack(str(tmp_path / "pack"), str(tmp_path / "cache"), log=quiet)
    missing = [str(tmp_path / "elsewhere" / os.path.basename(d)) for d in data]  # dataset paths absent on this "machine"
    for d, m in zip(data, missing):
        with open(os.path.join(tmp_path / "cache", _folder_of(tmp_path / "cache", d), "meta.json")) as f:
            meta = json.load(f)
        meta["source"] = os.path.abspath(m)
        with open(os.path.join(tmp_path / "cache", _folder_of(tmp_path / "cache", d), "meta.json"), "w") as f:
            json.dump(meta, f)
    p = Pipeline(str(tmp_path / "gpu-run"), datasets=missing, config="tiny", device="cpu", cache_dir=str(tmp_path / "cache"), log=quiet)
    assert [os.path.dirname(c) for c in p.cache_dirs] == [str(tmp_path / "cache")] * 3
    assert p.store("train").num_samples > 0 and p.store("val").num_samples > 0
    with pytest.raises(DatasetError, match="no cache made from it"):
        build_cache(str(tmp_path / "nowhere"), str(tmp_path / "cache"), log=quiet)
    twin = tmp_path / "cache" / (_folder_of(tmp_path / "cache", missing[0]) + "-copy")
    shutil.copytree(tmp_path / "cache" / _folder_of(tmp_path / "cache", missing[0]), twin)
    with pytest.raises(DatasetError, match="2 caches made from it"):
        build_cache(missing[0], str(tmp_path / "cache"), log=quiet)


def _folder_of(cache_root, source):
    for name in os.listdir(cache_root):
        meta = os.path.join(cache_root, name, "meta.json")
        if os.path.isfile(meta) and json.load(open(meta))["source"] == os.path.abspath(source):
            return name
    raise AssertionError(f"no cache of {source}")


@pytest.mark.parametrize("shape", [(40, 30), (40, 30, 1), (40, 30, 3), "grey-rgb", "upsampled"])
def test_image_codec_is_lossless_for_every_layout(shape):
    rng = np.random.default_rng(0)
    if shape == "grey-rgb":
        image = np.repeat(rng.integers(0, 256, (33, 17, 1), dtype=np.uint8), 3, axis=2)
    elif shape == "upsampled":
        image = np.repeat(np.repeat(rng.integers(0, 256, (9, 7, 3), dtype=np.uint8), 5, axis=0), 4, axis=1)
    else:
        image = rng.integers(0, 256, shape, dtype=np.uint8)
    data = encode_image(image, None)
    assert np.array_equal(decode_image(data), image) and decode_image(data).shape == image.shape
    if shape == "upsampled":
        assert len(data) < len(encode_image(rng.integers(0, 256, image.shape, dtype=np.uint8), None)) / 4
    wide = rng.integers(0, 70000, (5, 6)).astype(np.int32)  # not uint8: stored as .npy
    assert np.array_equal(decode_image(encode_image(wide, 95)), wide)


def test_split_seed_keeps_one_validation_split_across_training_seeds(run, tmp_path):
    run_dir, data, _ = run
    cache = os.path.join(run_dir, "cache")

    def val_keys(p):
        store = p.store("val")
        return [store.sample_key(d, s) for d, arr in enumerate(store.datasets) for s in range(len(arr.samples))]

    seed0 = val_keys(Pipeline(run_dir, log=quiet))
    shared = Pipeline(str(tmp_path / "seed1"), datasets=data, config="tiny", seed=1, split_seed=0, device="cpu", cache_dir=cache, log=quiet)
    own = Pipeline(str(tmp_path / "own"), datasets=data, config="tiny", seed=1, device="cpu", cache_dir=cache, log=quiet)
    assert shared.seed == 1 and val_keys(shared) == seed0 and val_keys(own) != seed0
    with pytest.raises(ValueError, match="--split-seed 0"):
        Pipeline(str(tmp_path / "seed1"), split_seed=2, device="cpu", log=quiet)


def test_a_run_started_with_cache_dir_keeps_using_it(tmp_path):
    from daft_train.data.cache import run_cache_root

    data = [synthetic.make_2d_regions(str(tmp_path), count=4)]
    run_dir = str(tmp_path / "run")
    shared = str(tmp_path / "shared-cache")
    Pipeline(run_dir, datasets=data, config="tiny", device="cpu", cache_dir=shared, log=quiet)
    with open(os.path.join(run_dir, "run.json")) as f:
        assert json.load(f)["cache_dir"] == shared
    # select / export / pack on the same run without --cache-dir: the recorded cache, not RUN_DIR/cache
    assert Pipeline(run_dir, log=quiet).cache_root == shared
    assert run_cache_root(run_dir, {"cache_dir": shared}) == shared
    assert run_cache_root(run_dir, {"cache_dir": shared}, str(tmp_path / "other")) == str(tmp_path / "other")
    assert run_cache_root(run_dir, {}) == os.path.join(run_dir, "cache")
