"""fdjpeg.detect (off-grid score) against libjpeg's own quantizer (Pillow +
jpeglib), closed forms, and two-pass images of scikit-image's photos."""
import importlib.util
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fdjpeg import tables
from fdjpeg.detect import offgrid_map, offgrid_residuals, offgrid_score

ROOT = Path(__file__).resolve().parents[1]


def photos():
    from skimage import data
    return {"astronaut": data.astronaut()[:256, :256], "coffee": data.coffee()[:200, :304],
            "chelsea": data.chelsea()[:224, :224], "camera": data.camera()[:256, :256],
            "rocket": data.rocket()[:224, :320]}


def two_pass(x, t0, t1=None):
    """The sensor: libjpeg encode with T (4:4:4), decode (Pillow)."""
    t1 = t0 if t1 is None else t1
    buf = io.BytesIO()
    qt = [np.asarray(t0).ravel().tolist(), np.asarray(t1).ravel().tolist()]
    Image.fromarray(x).save(buf, "JPEG", qtables=qt if x.ndim == 3 else qt[:1], subsampling=0)
    data = buf.getvalue()
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im), data


def test_front_end_matches_libjpeg_quantizer(tmp_path):
    """round(C / T) from the score's front end (colour conversion, level shift,
    DCT, natural order, per-component tables) equals the coefficients libjpeg
    writes for the same pixels, except where C / T sits within ISLOW's error of
    a rounding boundary."""
    import jpeglib
    t_luma = tables.default_fd()
    t_chroma = tables.paper_released()
    for name, x in photos().items():
        path = tmp_path / f"{name}.jpg"
        Image.fromarray(x).save(path, qtables=[t_luma.ravel().tolist(),
                                               t_chroma.ravel().tolist()], subsampling=0)
        d = jpeglib.read_dct(str(path))
        ref = [d.Y] + ([d.Cb, d.Cr] if x.ndim == 3 else [])
        res = offgrid_residuals(x, [t_luma, t_chroma])
        assert len(res) == len(ref)
        for c, (r, k) in enumerate(zip(res, ref)):
            t = t_luma if c == 0 else t_chroma
            q = tables._block_dct(x if x.ndim == 2 else tables._rgb_to_ycbcr(x, "ycbcr")[c]) / t
            np.testing.assert_allclose(r, q - np.round(q))
            mismatch = np.round(q) != k
            assert mismatch.mean() < 5e-3, (name, c, mismatch.mean())
            # where they differ, the value is at a rounding boundary
            assert np.all(np.abs(np.abs(r[mismatch]) - 0.5) < 0.02)


def test_exactly_on_grid_scores_zero_and_dc_shift_closed_form():
    # constant blocks: DC = 8 (v - 128), AC = 0.  With a DC step of 8 every block is
    # on the grid; +1 brightness moves DC by 8/T_dc = 0.4 steps for T_dc = 20.
    vals = np.array([[0, 8, 16], [128, 240, 96]], np.uint8) + 40
    img = np.kron(vals, np.ones((8, 8), np.uint8))
    t = np.full((8, 8), 20)
    t[0, 0] = 8
    assert offgrid_score(img, t) == pytest.approx(0, abs=1e-20)
    t[0, 0] = 20
    img = np.kron(np.full((2, 3), 128 + 5, np.uint8), np.ones((8, 8), np.uint8))  # DC 40
    assert offgrid_score(img, t) == pytest.approx(0, abs=1e-20)
    brighter = img + np.uint8(1)                                                  # DC 48
    assert offgrid_score(brighter, t) == pytest.approx(12 * 0.4 ** 2 / 64, rel=1e-9)
    m = offgrid_map(brighter, t)
    assert m.shape == (2, 3)
    np.testing.assert_allclose(m, 12 * 0.4 ** 2 / 64, rtol=1e-9)


def test_no_grid_relation_scores_about_one():
    # random pixels against steps of 7 and 13: residuals ~ uniform, E[12 r^2] = 1
    x = np.random.default_rng(0).integers(1, 255, (256, 256, 3), dtype=np.uint8)
    for step in (7, 13):
        assert offgrid_score(x, np.full((8, 8), step)) == pytest.approx(1.0, abs=0.03)


def test_two_pass_images_score_low_and_changes_score_high():
    t = tables.default_fd()
    rng = np.random.default_rng(1)
    for name, x in photos().items():
        sensed, data = two_pass(x, t)
        benign = offgrid_score(sensed, t)
        assert benign < 0.006, name
        assert offgrid_score(data, t) == benign            # JPEG bytes: decoded, same pixels
        sign = rng.choice(np.array([-1, 1], np.int16), size=sensed.shape)
        noisy = np.clip(sensed + sign, 0, 255).astype(np.uint8)
        assert offgrid_score(noisy, t) > 2 * benign + 0.004, name
        brighter = np.clip(sensed.astype(np.int16) + 1, 0, 255).astype(np.uint8)
        assert offgrid_score(brighter, t) > benign + 0.004, name
        # a crop at a multiple of 8 stays on the grid, a 1-pixel shift does not
        assert offgrid_score(sensed[8:, 16:], t) < 0.006
        assert offgrid_score(sensed[1:, 1:], t) > 0.05
        # the raw photo never saw this table (smooth photos have many near-zero
        # coefficients, which sit near the grid's 0: scores stay well below 1)
        assert offgrid_score(x, t) > 0.03


def test_wrong_table_does_not_see_the_grid():
    x = photos()["astronaut"]
    sensed, _ = two_pass(x, tables.default_fd())
    assert offgrid_score(sensed, tables.default_fd()) < 0.006
    assert offgrid_score(sensed, tables.standard(50)) > 0.03


def test_table_forms_and_batches():
    x = photos()["coffee"]
    t = tables.default_fd()
    sensed, _ = two_pass(x, t, tables.paper_released())
    s_default = offgrid_score(sensed)
    assert s_default == offgrid_score(sensed, True) == offgrid_score(sensed, [t, t, t])
    both = offgrid_score(sensed, [t, tables.paper_released()])
    assert both == offgrid_score(sensed, {0: t, 1: tables.paper_released()})
    assert both == offgrid_score(sensed, [t, tables.paper_released(), tables.paper_released()])
    assert both < 0.006 < s_default        # chroma was encoded with the other table
    batch = np.stack([sensed, sensed[::-1].copy()])
    got = offgrid_score(batch, t)
    assert got.shape == (2,) and got.dtype == np.float64
    assert got[0] == offgrid_score(sensed, t) and got[1] == offgrid_score(sensed[::-1].copy(), t)
    gray = photos()["camera"]
    g_sensed, _ = two_pass(gray, t)
    assert offgrid_score(g_sensed[:, :, None], t) == offgrid_score(g_sensed, t) < 0.006
    with pytest.raises(ValueError):
        offgrid_score(g_sensed, [t, t, t])     # 3 tables for 1 component


def test_luma_only_for_subsampled_sensors():
    """At 4:2:0 the decoder resamples chroma off its grid; Y stays near its grid."""
    t = tables.default_fd()
    rng = np.random.default_rng(3)
    for name, x in photos().items():
        if x.ndim == 2:
            continue
        buf = io.BytesIO()
        Image.fromarray(x).save(buf, "JPEG", qtables=[t.ravel().tolist()] * 2, subsampling=2)
        with Image.open(io.BytesIO(buf.getvalue())) as im:
            sensed = np.asarray(im)
        luma = offgrid_score(sensed, t, components="luma")
        assert luma < 0.012, name
        assert offgrid_score(sensed, t) > luma + 0.008, name        # chroma is off-grid
        res = offgrid_residuals(sensed, t, components="luma")
        assert len(res) == 1
        np.testing.assert_array_equal(res[0], offgrid_residuals(sensed, t)[0])
        assert offgrid_map(sensed, t, components="luma").shape == res[0].shape[:2]
        sign = rng.choice(np.array([-1, 1], np.int16), size=sensed.shape)
        noisy = np.clip(sensed + sign, 0, 255).astype(np.uint8)
        assert offgrid_score(noisy, t, components="luma") > luma + 0.004, name
    with pytest.raises(ValueError):
        offgrid_score(sensed, t, components="chroma")


def test_skip_clipped():
    t = tables.default_fd()
    x = photos()["astronaut"].copy()
    x[:64] = 255                               # a saturated band the decoder clips
    sensed, _ = two_pass(x, t)
    clipped = offgrid_map(sensed, t)
    assert offgrid_score(sensed, t, skip_clipped=False) == pytest.approx(clipped.mean())
    assert offgrid_score(sensed, t) <= offgrid_score(sensed, t, skip_clipped=False)
    white = np.full((16, 16, 3), 255, np.uint8)   # every block clipped: all are scored
    assert offgrid_score(white, t) == offgrid_score(white, t, skip_clipped=False)


@pytest.mark.parametrize("bad, exc", [
    (np.zeros((16, 16), np.float32), TypeError), ("x.jpg", TypeError), ([[1, 2]], TypeError),
    (np.zeros((16, 16, 4), np.uint8), ValueError), (np.zeros((7, 64), np.uint8), ValueError),
    (np.zeros((2, 16, 16, 3), np.int16), TypeError),
    (np.zeros((2, 2, 2, 2, 2), np.uint8), ValueError),
])
def test_bad_arguments(bad, exc):
    with pytest.raises(exc):
        offgrid_score(bad)


def test_bad_tables():
    x = np.zeros((16, 16), np.uint8)
    with pytest.raises(ValueError):
        offgrid_score(x, np.zeros((8, 8)))
    with pytest.raises(ValueError):
        offgrid_score(x, np.ones((4, 4)))
    # one table vocabulary (fdjpeg.tables.parse): "default" names the FD table; an unknown
    # word is a ValueError, a wrong type a TypeError
    assert offgrid_score(x, "default") == offgrid_score(x, True)
    with pytest.raises(ValueError, match="table"):
        offgrid_score(x, "no-such-table")
    with pytest.raises(TypeError):
        offgrid_score(x, b"default")


def test_bad_jpeg_bytes():
    from fdjpeg import JPEGError
    with pytest.raises(JPEGError):
        offgrid_score(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(JPEGError):
        offgrid_score(b"GIF89a")


def test_bench_auc_matches_pairwise_definition():
    spec = importlib.util.spec_from_file_location("offgrid_auc", ROOT / "fdjpeg" / "eval" / "offgrid_auc.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rng = np.random.default_rng(2)
    neg = rng.integers(0, 20, 50).astype(float)      # many ties
    pos = rng.integers(5, 25, 40).astype(float)
    pairwise = np.mean((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :]))
    assert mod.roc_auc(neg, pos) == pytest.approx(pairwise)
    assert mod.roc_auc(neg, neg + 100) == 1.0 and mod.roc_auc(neg + 100, neg) == 0.0
