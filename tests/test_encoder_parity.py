"""bench/encoder_parity.py's counters: coefficients compared / differing, read back by jpeglib.

The speed of the script is not tested; what it counts is: a file against itself differs in 0 of
exactly the coefficients its block grid holds, a single changed coefficient is counted once, a
grid or component mismatch counts as differing, and the run over three corpus images agrees with
Pillow at every setting."""
import math
import pathlib
import sys
import tempfile

import numpy as np
import pytest

import fdjpeg

from conftest import IMAGENET

sys.path.append(str(pathlib.Path(__file__).resolve().parents[1] / "bench"))  # after tests/: its conftest wins
import encoder_parity as ep  # noqa: E402


def n_coefficients(h, w, sampling):
    """Coefficients libjpeg stores for an h x w image: ceil(ceil(dim * f / fmax) / 8) blocks."""
    hmax = max(s[0] for s in sampling)
    vmax = max(s[1] for s in sampling)
    return sum(64 * math.ceil(math.ceil(h * v / vmax) / 8) * math.ceil(math.ceil(w * hh / hmax) / 8)
               for hh, v in sampling)


def smooth(h, w, seed=0):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:h, :w]
    base = np.stack([x * 3 + y, y * 2 + 40, (x + y) % 200], -1).astype(np.int64)
    return np.clip(base + rng.integers(-20, 21, base.shape), 0, 255).astype(np.uint8)


def test_same_file_counts_every_coefficient_and_no_difference():
    img = smooth(37, 45)
    data = fdjpeg.encode(img, quality=75, subsampling="4:2:0")
    with tempfile.TemporaryDirectory() as folder:
        assert ep.coefficient_diff(data, data, folder) == (
            n_coefficients(37, 45, [(2, 2), (1, 1), (1, 1)]), 0)


def test_one_changed_coefficient_is_counted_once():
    img = smooth(40, 56, 1)
    data = fdjpeg.encode(img, quality=90, subsampling="4:2:2")
    c = fdjpeg.read_coefficients(data)
    c["coefficients"][2][1, 2, 3, 4] += 7  # one Cr coefficient, not the DC
    changed = fdjpeg.write_coefficients(c)
    total = n_coefficients(40, 56, [(2, 1), (1, 1), (1, 1)])
    with tempfile.TemporaryDirectory() as folder:
        assert ep.coefficient_diff(data, changed, folder) == (total, 1)
        c["coefficients"][0][0, 0] += 1  # all 64 of the first luma block
        assert ep.coefficient_diff(data, fdjpeg.write_coefficients(c), folder) == (total, 65)


def test_grid_and_component_mismatches_count_as_differing():
    rgb = smooth(32, 32, 2)
    a = fdjpeg.encode(rgb, quality=75, subsampling="4:4:4")   # 3 components of 16 blocks
    b = fdjpeg.encode(rgb, quality=75, subsampling="4:2:0")   # chroma: 4 blocks each
    g = fdjpeg.encode(rgb[:, :, 0], quality=75)               # 1 component
    with tempfile.TemporaryDirectory() as folder:
        compared, differ = ep.coefficient_diff(a, b, folder)
        assert compared == 3 * 16 * 64 and differ >= 2 * 16 * 64
        assert ep.coefficient_diff(a, g, folder)[0] == 3 * 16 * 64
        assert ep.coefficient_diff(a, g, folder)[1] >= 2 * 16 * 64


def test_random_tables_are_16bit_and_in_range():
    for seed in range(20):
        t = ep.random_tables(seed)
        assert t.shape == (2, 8, 8) and t.min() >= 1 and t.max() <= 8191
        assert (t.reshape(2, 64).max(axis=1) > 255).all()
    assert not np.array_equal(ep.random_tables(0), ep.random_tables(1))


@pytest.mark.skipif(not IMAGENET.is_dir(), reason="../shared/corpus/imagenet-sample not present")
def test_run_on_three_corpus_images_agrees_with_pillow():
    files = sorted(IMAGENET.glob("*.JPEG"))[:3]
    res = ep.run(files)
    assert set(res["settings"]) == set(ep.SETTINGS)
    for name, t in res["settings"].items():
        assert t["images"] == 3 and t["files_identical"] == 3, name
        assert t["coefficients_differing"] == 0 and not t["mismatches"], name
    # the count is the block grid of each setting's sampling
    sizes = [ep.load_pixels(f).shape for f in files]
    colour = [(2, 2), (1, 1), (1, 1)]
    assert res["settings"]["q75 4:2:0"]["coefficients_compared"] == sum(
        n_coefficients(s[0], s[1], colour if len(s) == 3 else [(1, 1)]) for s in sizes)
    assert res["settings"]["FD table 4:4:4"]["coefficients_compared"] == sum(
        n_coefficients(s[0], s[1], [(1, 1)] * (3 if len(s) == 3 else 1)) for s in sizes)


def test_main_writes_provenance(tmp_path):
    if not IMAGENET.is_dir():
        pytest.skip("../shared/corpus/imagenet-sample not present")
    res = ep.main(["--corpus", str(IMAGENET), "--limit", "1", "--out", str(tmp_path / "p")])
    prov = res["provenance"]
    assert isinstance(prov["git_dirty"], bool) and prov["git_commit"]
    assert prov["versions"]["Pillow"] and res["images"] == 1
    assert (tmp_path / "p.json").exists() and "coefficients compared" in (tmp_path / "p.md").read_text()
