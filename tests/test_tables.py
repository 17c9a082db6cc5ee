"""fdjpeg.tables against independent references: Pillow (libjpeg-turbo 3.2),
cjpeg (libjpeg-turbo 2.1.5), jpeglib's raw coefficients, numpy closed forms."""
import io
import json
import math
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fdjpeg import tables

from conftest import CORPUS, IMAGENET  # FDJPEG_CORPUS or ../shared/corpus
CJPEG = shutil.which("cjpeg")
needs_cjpeg = pytest.mark.skipif(
    CJPEG is None, reason="cjpeg not installed (apt-get install libjpeg-turbo-progs)")


def pillow_tables(img, **save):
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", **save)
    buf.seek(0)
    with Image.open(buf) as im:
        q = im.quantization
    return {k: np.array(v, dtype=np.int64).reshape(8, 8) for k, v in q.items()}, buf.getvalue()


def dct_reference(block):
    """T.81 A.3.3 FDCT, written out as the double sum (independent of the
    module's matrix form)."""
    out = np.zeros((8, 8))
    xs = np.arange(8)
    for u in range(8):
        for v in range(8):
            cu = 1 / math.sqrt(2) if u == 0 else 1.0
            cv = 1 / math.sqrt(2) if v == 0 else 1.0
            basis = np.outer(np.cos((2 * xs + 1) * u * math.pi / 16),
                             np.cos((2 * xs + 1) * v * math.pi / 16))
            out[u, v] = 0.25 * cu * cv * np.sum((block - 128.0) * basis)
    return out


def sigma_reference(planes):
    coefs = []
    for p in planes:
        h, w = p.shape[0] // 8 * 8, p.shape[1] // 8 * 8
        for y in range(0, h, 8):
            for x in range(0, w, 8):
                coefs.append(dct_reference(p[y:y + 8, x:x + 8].astype(np.float64)))
    return np.std(np.array(coefs), axis=0)


# ---------------------------------------------------------------- standard()

def test_standard_equals_pillow_for_every_quality():
    img = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    for q in range(1, 101):
        qt, _ = pillow_tables(img, quality=q)
        luma, chroma = tables.standard(q), tables.standard(q, chroma=True)
        assert luma.shape == (8, 8) and luma.dtype == np.uint16
        np.testing.assert_array_equal(luma, qt[0], err_msg=f"luma q={q}")
        np.testing.assert_array_equal(chroma, qt[1], err_msg=f"chroma q={q}")


def test_standard_quality_50_is_annex_k_and_clamps():
    # Annex K Table K.1 at scale 100 (closed form: (b*100+50)//100 == b)
    assert tables.standard(50)[0].tolist() == [16, 11, 10, 16, 24, 40, 51, 61]
    assert tables.standard(50, True)[7].tolist() == [99] * 8
    assert np.all(tables.standard(100) == 1)
    assert tables.standard(1).max() == 255
    np.testing.assert_array_equal(tables.standard(0), tables.standard(1))
    np.testing.assert_array_equal(tables.standard(250), tables.standard(100))
    assert tables.standard(1, force_baseline=False).max() == (121 * 5000 + 50) // 100
    with pytest.raises(TypeError):
        tables.standard(50.0)
    with pytest.raises(TypeError):
        tables.standard(True)


@needs_cjpeg
@pytest.mark.parametrize("q", [1, 5, 10, 24, 25, 50, 90])
def test_standard_not_baseline_equals_cjpeg(tmp_path, q):
    """cjpeg -quality without -baseline keeps entries above 255 (16-bit DQT)."""
    ppm = tmp_path / "in.ppm"
    Image.fromarray(np.full((16, 16, 3), 100, np.uint8)).save(ppm)
    out = tmp_path / "out.jpg"
    subprocess.run([CJPEG, "-quality", str(q), "-outfile", str(out), str(ppm)], check=True)
    with Image.open(out) as im:
        qt = {k: np.array(v).reshape(8, 8) for k, v in im.quantization.items()}
    np.testing.assert_array_equal(tables.standard(q, force_baseline=False), qt[0])
    np.testing.assert_array_equal(tables.standard(q, True, force_baseline=False), qt[1])


# ---------------------------------------------------------------- defensive_step()

def test_defensive_step_paper_values():
    assert tables.defensive_step(0.005) == 21
    assert tables.defensive_step(0.015) == 62
    assert tables.defensive_step(Fraction(2, 255)) == 33
    assert tables.defensive_step(2 / 255) == 33
    assert tables.defensive_step(1 / 256) == 17          # exactly 16: strictly above
    assert tables.defensive_step(Fraction(1, 256)) == 17
    assert tables.defensive_step(1) == 4097


def test_defensive_step_is_smallest_integer_above_bound():
    for eps in [0.001, 0.005, 0.007, 0.008, 0.01, 0.012, 0.015, 0.03, 0.1, 0.5]:
        bound = 16 * Fraction(str(eps)) * 256
        step = tables.defensive_step(eps)
        assert isinstance(step, int)
        assert step > bound and step - 1 <= bound, eps


@pytest.mark.parametrize("bad", [0, 0.0, -0.01, 2, 8, float("nan"), float("inf")])
def test_defensive_step_rejects_nonsense(bad):
    with pytest.raises(ValueError):
        tables.defensive_step(bad)


@pytest.mark.parametrize("bad", ["0.01", None, True, [0.01], 1j])
def test_defensive_step_rejects_wrong_types(bad):
    with pytest.raises(TypeError):
        tables.defensive_step(bad)


# ---------------------------------------------------------------- band_std()

def test_band_std_matches_double_sum_dct_on_random_data():
    rng = np.random.default_rng(1)
    imgs = [rng.integers(0, 256, (24, 40), dtype=np.uint8),
            rng.integers(0, 256, (19, 21), dtype=np.uint8)]   # partial edge blocks dropped
    got = tables.band_std(imgs)
    assert got.shape == (8, 8) and got.dtype == np.float64
    np.testing.assert_allclose(got, sigma_reference(imgs), rtol=1e-10, atol=1e-9)


def test_band_std_known_case_constant_blocks():
    # every block constant: AC bands exactly 0, DC = 8 * (v - 128) (orthonormal DCT)
    vals = np.array([[10, 200, 37], [128, 255, 0]], dtype=np.uint8)
    img = np.kron(vals, np.ones((8, 8), dtype=np.uint8))
    got = tables.band_std(img)
    assert got[0, 0] == pytest.approx(8 * np.std(vals.astype(float)), rel=1e-12)
    ac = got.copy()
    ac[0, 0] = 0
    assert np.max(ac) < 1e-9


def test_band_std_single_basis_function():
    # blocks = 128 + s * a * cos((2y+1)k pi/16), s = +-1 per block: only band (0, k)
    # moves, with coefficient s * a * sqrt(8) * 1/2 * 4 = s * a * 4 * sqrt(2).
    k, a = 3, 40.0
    rng = np.random.default_rng(2)
    signs = rng.choice([-1.0, 1.0], size=(6, 6))
    row = np.cos((2 * np.arange(8) + 1) * k * np.pi / 16)
    pattern = np.tile(row, (8, 1))
    img_f = 128 + np.kron(signs, pattern * a)
    # floats would be rounded by uint8: compare against the rounded image's own
    # reference, and check the dominant band against the closed form
    img = np.round(img_f).astype(np.uint8)
    got = tables.band_std(img)
    expected = 4 * math.sqrt(2) * a * np.std(signs)
    assert got[0, k] == pytest.approx(expected, rel=0.01)
    np.testing.assert_allclose(got, sigma_reference([img]), rtol=1e-10, atol=1e-9)
    others = got.copy()
    others[0, k] = 0
    assert others.max() < 0.02 * got[0, k]


def test_band_std_luma_uses_libjpeg_y():
    # Pillow's RGB -> L uses the same fixed-point Y as libjpeg's encoder
    from skimage import data
    rgb = data.astronaut()
    gray = np.asarray(Image.fromarray(rgb).convert("L"))
    np.testing.assert_array_equal(tables._rgb_to_ycbcr(rgb, "y")[0], gray)
    np.testing.assert_allclose(tables.band_std(rgb), tables.band_std(gray), rtol=1e-12)
    # (H, W, 1) and a 4-D batch are the same images
    np.testing.assert_allclose(tables.band_std(gray[:, :, None]), tables.band_std(gray))
    batch = np.stack([rgb[:256, :256], rgb[256:, 256:]])
    np.testing.assert_allclose(tables.band_std(batch),
                               tables.band_std([rgb[:256, :256], rgb[256:, 256:]]))


@pytest.mark.parametrize("channel", ["luma", "chroma", "all"])
def test_band_std_against_jpeglib_coefficients(tmp_path, channel):
    """Pillow quality=100 4:4:4 quantizes with step 1 everywhere, so jpeglib's raw
    coefficients are libjpeg's own colour conversion + ISLOW FDCT, rounded:
    an independent front end.  Rounding adds variance 1/12 at most."""
    import jpeglib
    from skimage import data
    imgs = [data.astronaut(), data.coffee()[:400, :600], data.chelsea()[:296, :448]]
    planes = {"luma": [], "chroma": []}
    for i, img in enumerate(imgs):
        path = tmp_path / f"{i}.jpg"
        Image.fromarray(img).save(path, quality=100, subsampling=0)
        d = jpeglib.read_dct(str(path))
        assert np.all(d.qt == 1)
        planes["luma"].append(d.Y.reshape(-1, 64))
        planes["chroma"] += [d.Cb.reshape(-1, 64), d.Cr.reshape(-1, 64)]
    if channel == "all":
        ref = np.concatenate(planes["luma"] + planes["chroma"])
    else:
        ref = np.concatenate(planes[channel])
    ref_std = ref.astype(np.float64).std(axis=0).reshape(8, 8)
    got = tables.band_std(imgs, channel=channel)
    np.testing.assert_allclose(got, ref_std, rtol=0.01, atol=0.35)


def test_band_std_gray_and_chroma_pooling():
    rng = np.random.default_rng(3)
    gray = rng.integers(0, 256, (16, 16), dtype=np.uint8)
    rgb = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    # gray images have no chroma: they add nothing to "chroma", their Y to "all"
    np.testing.assert_allclose(tables.band_std([gray, rgb], channel="chroma"),
                               tables.band_std(rgb, channel="chroma"))
    y, cb, cr = tables._rgb_to_ycbcr(rgb, "ycbcr")
    np.testing.assert_allclose(tables.band_std([gray, rgb], channel="all"),
                               sigma_reference([gray, y, cb, cr]), rtol=1e-10, atol=1e-9)


def test_band_std_accepts_generators_and_checks_arguments():
    rng = np.random.default_rng(4)
    imgs = [rng.integers(0, 256, (16, 16), dtype=np.uint8) for _ in range(3)]
    np.testing.assert_allclose(tables.band_std(iter(imgs)), tables.band_std(imgs))
    with pytest.raises(ValueError):
        tables.band_std(imgs, channel="red")
    with pytest.raises(TypeError):
        tables.band_std(imgs[0].astype(np.float32))
    with pytest.raises(TypeError):
        tables.band_std("image.png")
    with pytest.raises(TypeError):
        tables.band_std([[1, 2], [3, 4]])
    with pytest.raises(ValueError):
        tables.band_std(np.zeros((16, 16, 4), np.uint8))
    with pytest.raises(ValueError):
        tables.band_std([])
    with pytest.raises(ValueError):             # no full block
        tables.band_std(np.zeros((7, 100), np.uint8))
    with pytest.raises(ValueError):             # gray only, chroma requested
        tables.band_std(imgs, channel="chroma")


# ---------------------------------------------------------------- feature_distillation()

def test_feature_distillation_assigns_top_n_bands():
    rng = np.random.default_rng(5)
    stats = rng.permutation(64).astype(float).reshape(8, 8)   # distinct sigmas
    for n in (0, 1, 15, 63, 64):
        t = tables.feature_distillation(stats, s_md=33, s_as=7, n_as=n)
        assert t.shape == (8, 8) and t.dtype == np.uint16
        top = stats >= np.sort(stats.ravel())[::-1][n - 1] if n else np.zeros((8, 8), bool)
        np.testing.assert_array_equal(t, np.where(top, 7, 33))


def test_feature_distillation_ties_prefer_lower_zigzag():
    stats = np.ones((8, 8))      # all tied: the first n in zigzag order win
    t = tables.feature_distillation(stats, n_as=6)
    zz = [(0, 0), (0, 1), (1, 0), (2, 0), (1, 1), (0, 2)]
    expected = np.full((8, 8), 30)
    for r, c in zz:
        expected[r, c] = 20
    np.testing.assert_array_equal(t, expected)
    # a 64-vector is natural order, same as (8, 8)
    np.testing.assert_array_equal(tables.feature_distillation(stats.ravel(), n_as=6), t)


def test_feature_distillation_default_uses_shipped_sigma():
    sigma = tables.shipped_band_std()
    assert sigma.shape == (8, 8) and np.all(sigma > 0)
    t = tables.feature_distillation()
    np.testing.assert_array_equal(t, tables.feature_distillation(sigma))
    np.testing.assert_array_equal(t, tables.default_fd())
    assert np.count_nonzero(t == 20) == 15 and np.count_nonzero(t == 30) == 49
    # natural images: energy falls with frequency, so the AS band holds the DC
    assert t[0, 0] == 20 and t[7, 7] == 30
    sigma[0, 0] = -1                      # a copy: the shipped numbers are untouched
    assert tables.shipped_band_std()[0, 0] > 0


def test_shipped_json_documents_its_provenance():
    doc = json.loads((Path(tables.__file__).parent / "data" / "fd_band_std.json").read_text())
    assert doc["n_images"] == 1000 and doc["order"] == "natural"
    assert "imagenet-sample" in doc["source"] and "luma" in doc["channel"]
    np.testing.assert_allclose(np.array(doc["std"]), tables.shipped_band_std())


@pytest.mark.skipif(not IMAGENET.is_dir(), reason=f"corpus not found at {IMAGENET}")
def test_shipped_sigma_reproduces_from_corpus():
    """Re-run the designer on the whole sample (about 4 s): the shipped numbers
    are reproducible to their 4 printed decimals, and so is the default table."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "design_fd_table", Path(__file__).resolve().parents[1] / "fdjpeg" / "eval" / "design_fd_table.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    files = sorted(IMAGENET.glob("*.JPEG"))
    assert len(files) == 1000
    sigma = mod.compute(files)
    np.testing.assert_allclose(sigma, tables.shipped_band_std(), rtol=0, atol=6e-5)
    np.testing.assert_array_equal(tables.feature_distillation(sigma),
                                  tables.feature_distillation())


@pytest.mark.parametrize("kwargs, exc", [
    ({"s_md": 0}, ValueError), ({"s_as": 65536}, ValueError), ({"n_as": 65}, ValueError),
    ({"n_as": -1}, ValueError), ({"s_md": 30.5}, TypeError), ({"n_as": True}, TypeError),
    ({"stats": np.ones(63)}, ValueError), ({"stats": np.full((8, 8), np.nan)}, ValueError),
    ({"stats": -np.ones((8, 8))}, ValueError), ({"stats": "sigma"}, TypeError),
])
def test_feature_distillation_validates(kwargs, exc):
    with pytest.raises(exc):
        tables.feature_distillation(**kwargs)


def test_paper_released():
    t = tables.paper_released()
    assert t.dtype == np.uint16 and t.shape == (8, 8)
    assert np.all(t[:4, :4] == 25) and np.count_nonzero(t == 25) == 16
    assert np.count_nonzero(t == 30) == 48


# ---------------------------------------------------------------- JSON

def test_json_round_trip():
    tabs = [tables.default_fd(), tables.standard(75, True), tables.paper_released(),
            np.arange(1, 65, dtype=np.uint16).reshape(8, 8) * 1000]
    for n in range(1, 5):
        text = tables.to_json(tabs[:n], name="test")
        doc = json.loads(text)
        assert doc["schema"] == "fdjpeg.qtables/1" and doc["name"] == "test"
        assert doc["tables"][0] == [[int(v) for v in row] for row in tabs[0]]
        back = tables.from_json(text)
        assert len(back) == n
        for a, b in zip(back, tabs):
            assert a.dtype == np.uint16
            np.testing.assert_array_equal(a, b)
    # one table, a Pillow-style dict, bytes
    one = tables.from_json(tables.to_json(tables.default_fd()).encode())
    np.testing.assert_array_equal(one[0], tables.default_fd())
    two = tables.from_json(tables.to_json({0: tabs[0], 1: tabs[1]}))
    np.testing.assert_array_equal(two[1], tabs[1])
    # flat 64 entries are accepted on reading
    flat = json.dumps({"schema": "fdjpeg.qtables/1", "tables": [list(range(1, 65))]})
    np.testing.assert_array_equal(tables.from_json(flat)[0].ravel(), np.arange(1, 65))


@pytest.mark.parametrize("text", [
    "not json", "[]", '{"tables": [[1]]}',
    '{"schema": "fdjpeg.qtables/1", "tables": []}',
    '{"schema": "fdjpeg.qtables/1", "tables": [[1, 2, 3]]}',
    '{"schema": "fdjpeg.qtables/1", "tables": [' + str([0] * 64) + ']}',
    '{"schema": "fdjpeg.qtables/1", "tables": [' + str([70000] * 64) + ']}',
    '{"schema": "fdjpeg.qtables/1", "tables": [' + str([1.5] * 64) + ']}',
    '{"schema": "fdjpeg.qtables/1", "order": "zigzag", "tables": [' + str([1] * 64) + ']}',
    '{"schema": "fdjpeg.qtables/1", "tables": [' + ",".join([str([1] * 64)] * 5) + ']}',
])
def test_from_json_rejects_bad_input(text):
    with pytest.raises(ValueError):
        tables.from_json(text)


def test_to_json_rejects_bad_tables():
    with pytest.raises(ValueError):
        tables.to_json(np.zeros((8, 8), np.uint16))
    with pytest.raises(ValueError):
        tables.to_json(np.ones((7, 8), np.uint16))
    with pytest.raises(TypeError):
        tables.to_json("30")
    with pytest.raises(ValueError):
        tables.to_json({1: tables.default_fd()})


# ---------------------------------------------------------------- cjpeg text

def test_cjpeg_text_round_trip_and_comments():
    tabs = [tables.default_fd(), tables.standard(10, force_baseline=False)]
    text = tables.to_cjpeg(tabs, comment="two tables\nfor a test")
    lines = [ln for ln in text.splitlines() if not ln.startswith("#")]
    assert len(lines) == 16 and all(len(ln.split()) == 8 for ln in lines)
    back = tables.from_cjpeg(text)
    for a, b in zip(back, tabs):
        np.testing.assert_array_equal(a, b)
    # free-form whitespace and trailing comments, as libjpeg reads them
    free = "# hi\n" + " ".join(str(v) for v in range(1, 33)) + " # mid\n" + \
        "\t".join(str(v) for v in range(33, 65)) + "\n"
    np.testing.assert_array_equal(tables.from_cjpeg(free)[0].ravel(), np.arange(1, 65))


@pytest.mark.parametrize("text", ["", "# only a comment\n", "1 2 3", " ".join(["5"] * 65),
                                  " ".join(["5"] * 63) + " x", " ".join(["0"] * 64),
                                  " ".join(["40000"] * 64), " ".join(["-5"] * 64),
                                  " ".join(["1"] * 320)])
def test_from_cjpeg_rejects_bad_input(text):
    with pytest.raises(ValueError):
        tables.from_cjpeg(text)


def test_to_cjpeg_refuses_what_libjpeg_would_clamp():
    with pytest.raises(ValueError):
        tables.to_cjpeg(np.full((8, 8), 40000, dtype=np.uint16))


@needs_cjpeg
@pytest.mark.parametrize("which", ["fd", "fd+chroma", "16bit"])
def test_cjpeg_writes_exported_tables(tmp_path, which):
    """The documented command really puts the exported tables in the DQT."""
    import jpeglib
    from skimage import data
    img = data.astronaut()[:64, :96]
    ppm = tmp_path / "in.ppm"
    Image.fromarray(img).save(ppm)
    if which == "fd":
        tabs, slots = [tables.default_fd()], "0"
    elif which == "fd+chroma":
        tabs, slots = [tables.default_fd(), tables.paper_released()], "0,1"
    else:
        tabs, slots = [np.arange(1, 65, dtype=np.uint16).reshape(8, 8) * 300], "0"
    qfile = tmp_path / "q.txt"
    qfile.write_text(tables.to_cjpeg(tabs, comment="test"))
    out = tmp_path / "out.jpg"
    subprocess.run([CJPEG, "-qtables", str(qfile), "-qslots", slots, "-sample", "1x1",
                    "-outfile", str(out), str(ppm)], check=True)
    with Image.open(out) as im:
        qt = {k: np.array(v).reshape(8, 8) for k, v in im.quantization.items()}
    assert len(qt) == len(tabs)
    for k, t in enumerate(tabs):
        np.testing.assert_array_equal(qt[k], t)
    d = jpeglib.read_dct(str(out))
    np.testing.assert_array_equal(d.quant_tbl_no, [0, 1, 1] if len(tabs) == 2 else [0, 0, 0])
    assert tuple(d.samp_factor[0]) == (1, 1) and tuple(d.samp_factor[1]) == (1, 1)


# ---------------------------------------------------------------- from_jpeg()

@pytest.mark.parametrize("save", [
    {"quality": 75},
    {"quality": 30, "subsampling": "4:2:0"},
    {"qtables": "web_low"},
    {"quality": 90, "progressive": True},
])
def test_from_jpeg_matches_pillow_and_jpeglib(tmp_path, save):
    import jpeglib
    from skimage import data
    img = data.coffee()[:120, :200]
    qt, jpg = pillow_tables(img, **save)
    got = tables.from_jpeg(jpg)
    assert sorted(got.slots) == sorted(qt)
    for k in qt:
        np.testing.assert_array_equal(got.slots[k], qt[k])
        assert got.slots[k].dtype == np.uint16
        assert got.bits[k] == 8
    path = tmp_path / "x.jpg"
    path.write_bytes(jpg)
    d = jpeglib.read_dct(str(path))
    assert got.component_slots == list(d.quant_tbl_no)
    for c, t in enumerate(got.components):
        np.testing.assert_array_equal(t, d.qt[d.quant_tbl_no[c]])
    # a path works too
    np.testing.assert_array_equal(tables.from_jpeg(path).slots[0], qt[0])
    np.testing.assert_array_equal(tables.from_jpeg(str(path)).slots[0], qt[0])


def test_from_jpeg_fd_tables_and_16bit(tmp_path):
    from skimage import data
    img = data.camera()[:64, :64]
    t16 = np.arange(1, 65, dtype=np.uint16).reshape(8, 8) * 200
    qt, jpg = pillow_tables(img, qtables=[t16.ravel().tolist()])
    got = tables.from_jpeg(jpg)
    np.testing.assert_array_equal(got.slots[0], t16)
    assert got.bits[0] == 16 and got.component_slots == [0]
    _, jpg = pillow_tables(data.astronaut()[:64, :64],
                           qtables=[tables.default_fd().ravel().tolist(),
                                    tables.paper_released().ravel().tolist()],
                           subsampling=0)
    got = tables.from_jpeg(jpg)
    assert tables.known_table_name(got.components[0]).startswith("fdjpeg default FD")
    assert tables.known_table_name(got.components[2]).startswith("paper released")


@pytest.mark.skipif(not IMAGENET.is_dir(), reason=f"corpus not found at {IMAGENET}")
def test_from_jpeg_on_camera_files():
    import jpeglib
    for path in sorted(IMAGENET.glob("*.JPEG"))[:40]:
        got = tables.from_jpeg(path)
        d = jpeglib.read_dct(str(path))
        with Image.open(path) as im:
            qt = im.quantization
        for k, v in qt.items():
            np.testing.assert_array_equal(got.slots[k].ravel(), v, err_msg=path.name)
        for c, t in enumerate(got.components):
            np.testing.assert_array_equal(t, d.qt[d.quant_tbl_no[c]], err_msg=path.name)


def test_from_jpeg_rejects_non_jpeg():
    from fdjpeg import JPEGError
    with pytest.raises(JPEGError):
        tables.from_jpeg(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    with pytest.raises(TypeError):
        tables.from_jpeg(12345)


# ---------------------------------------------------------------- known_table_name()

def test_known_table_name():
    assert tables.known_table_name(tables.default_fd()).startswith("fdjpeg default FD table")
    assert tables.known_table_name(tables.paper_released()).startswith("paper released")
    assert tables.known_table_name(tables.feature_distillation(s_md=60, s_as=40, n_as=15)) \
        == "fdjpeg FD table (s_md=60, s_as=40, n_as=15)"
    assert tables.known_table_name(tables.feature_distillation(s_md=20, s_as=30, n_as=15)) \
        == "fdjpeg FD table (s_md=20, s_as=30, n_as=15)"
    img = np.random.default_rng(6).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    for q in (4, 10, 50, 75, 95, 99):
        qt, _ = pillow_tables(img, quality=q)     # what Pillow writes, named back
        assert tables.known_table_name(qt[0]) == f"libjpeg standard luminance, quality {q}"
        assert tables.known_table_name(qt[1]) == f"libjpeg standard chrominance, quality {q}"
    qt, _ = pillow_tables(img, quality=2)
    assert tables.known_table_name(qt[0]) == "libjpeg standard luminance, quality 2"
    assert "not baseline" in tables.known_table_name(tables.standard(5, force_baseline=False))
    assert tables.known_table_name(np.full((8, 8), 33)) == "uniform step 33"
    # quality 1 is all 255 in both Annex K tables, and so are chroma 2 and 3
    assert tables.known_table_name(np.full((8, 8), 255)) == \
        "libjpeg standard luminance, quality 1 = libjpeg standard chrominance, quality 1-3"
    assert tables.known_table_name(np.full(64, 1)) == \
        "libjpeg standard luminance, quality 100 = libjpeg standard chrominance, quality 100"
    odd = tables.default_fd().copy()
    odd[7, 7] = 31
    assert tables.known_table_name(odd) is None
    with pytest.raises(ValueError):
        tables.known_table_name(np.zeros((8, 8)))


# ---------------------------------------------------------------- parse(): the one vocabulary

def test_parse_names_steps_and_files(tmp_path):
    fd = tables.default_fd()
    for spec in (True, "fd", "FD", "default", " true "):
        (t,) = tables.parse(spec)
        np.testing.assert_array_equal(t, fd)
    np.testing.assert_array_equal(tables.parse("paper")[0], tables.paper_released())
    # q<N>: Pillow's own tables for quality=N are the reference
    for spec, q in (("q75", 75), ("quality:20", 20), ("Q5", 5)):
        want, _ = pillow_tables(np.zeros((16, 16, 3), np.uint8), quality=q)
        got = tables.parse(spec)
        assert len(got) == 2
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
    for spec in (16, np.int64(16), "16"):
        (t,) = tables.parse(spec)
        assert t.dtype == np.uint16 and np.all(t == 16)
    json_file = tmp_path / "t.json"
    json_file.write_text(tables.to_json([fd, fd[::-1]]))
    cj_file = tmp_path / "t.txt"
    cj_file.write_text(tables.to_cjpeg([fd]))
    got = tables.parse(json_file)  # os.PathLike
    np.testing.assert_array_equal(got[1], fd[::-1])
    np.testing.assert_array_equal(tables.parse(str(cj_file))[0], fd)
    # structural forms
    assert len(tables.parse({0: fd, 1: fd})) == 2
    assert len(tables.parse(np.stack([fd] * 3))) == 3
    np.testing.assert_array_equal(tables.parse(fd.ravel().tolist())[0], fd)


@pytest.mark.parametrize("spec,exc,msg", [
    (None, TypeError, "table: a table is required"),
    (False, TypeError, "table: a table is required"),
    (b"fd", TypeError, "table must be a table form"),
    (2.5, TypeError, "table must be a table form"),
    ("bogus", ValueError, "table 'bogus': not a table name"),
    ("missing/file.json", ValueError, "not a table name, a step or an existing table file"),
    (0, ValueError, "table: a uniform step must be 1..65535"),
    ("70000", ValueError, "table: a uniform step must be 1..65535"),
    ("q0", ValueError, "quality must be 1..100"),
    (np.zeros((8, 8)), ValueError, "entry 0"),
    ([np.ones(64)] * 5, ValueError, "one per component"),
])
def test_parse_errors_have_one_format(spec, exc, msg):
    with pytest.raises(exc, match=msg):
        tables.parse(spec)


def test_parse_bad_file_names_the_file(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("1 2 3\n")
    with pytest.raises(ValueError, match="bad.txt"):
        tables.parse(bad)


def test_assign_slots():
    a, b = tables.standard(50), tables.standard(50, True)
    tabs, slots = tables.assign([a, b], 3)
    assert slots == [0, 1, 1] and tabs.shape == (2, 64)
    assert tables.assign("fd", 1)[1] == [0]
    with pytest.raises(ValueError, match="one per component"):
        tables.assign([a, b, a], 4)


@pytest.mark.parametrize("q", [1, 10, 49, 50, 75, 100])
def test_scaled_matches_pillow_qtables_with_quality(q):
    """tables.scaled is libjpeg's scaling of any table: Pillow's qtables= + quality= is the
    reference (it hands both to libjpeg's jpeg_add_quant_table)."""
    base = np.arange(1, 65, dtype=np.uint16).reshape(8, 8) * 3
    want, _ = pillow_tables(np.zeros((16, 16), np.uint8), qtables=[base.ravel().tolist()],
                            quality=q)
    np.testing.assert_array_equal(tables.scaled(base, q, force_baseline=True), want[0])
    # without the baseline clamp: closed form
    scale = 5000 // q if q < 50 else 200 - 2 * q
    np.testing.assert_array_equal(tables.scaled(base, q),
                                  np.clip((base.astype(np.int64) * scale + 50) // 100, 1, 32767))
