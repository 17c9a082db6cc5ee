"""One-pass Feature Distillation: decode(data, purify=T) against an independent reference.

Reference: read the quantized coefficients with jpeglib (libjpeg), requantize them in numpy
(D = c * Q_file, c' = round(D / T) half away from zero), write them back with table T through
jpeglib and decode that file with Pillow.  fdjpeg must give the same pixels.
"""
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import fdjpeg

jpeglib = pytest.importorskip("jpeglib")

from conftest import CORPUS, IMAGENET  # FDJPEG_CORPUS or ../shared/corpus


def requantize(c, q, t):
    d = c.astype(np.int64) * q.astype(np.int64)
    t = t.astype(np.int64)
    return (np.sign(d) * ((np.abs(d) + (t >> 1)) // t)).astype(np.int16)


def reference_purified(path, tables, tmp_path):
    """tables: one (8,8) table per component."""
    j = jpeglib.read_dct(str(path))
    comps = ["Y", "Cb", "Cr"] if j.Cb is not None else ["Y"]
    for k, name in enumerate(comps):
        q = j.qt[j.quant_tbl_no[k]]
        setattr(j, name, requantize(getattr(j, name), q, tables[k]))
    j.qt = np.stack([np.asarray(t, np.uint16) for t in tables[: len(comps)]])
    j.quant_tbl_no = np.arange(len(comps))
    out = tmp_path / "ref.jpg"
    j.write_dct(str(out))
    return np.asarray(Image.open(out))


def fd_table():
    return np.asarray(fdjpeg.tables.feature_distillation(), np.uint16)


def test_identity_table_changes_nothing():
    img = (np.random.default_rng(0).random((40, 50, 3)) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=100, subsampling=0)
    data = buf.getvalue()
    np.testing.assert_array_equal(fdjpeg.decode(data, purify=np.ones((8, 8), np.uint16)),
                                  fdjpeg.decode(data))


@pytest.mark.parametrize("sub,progressive", [(0, False), (1, True), (2, False)])
def test_purify_equals_jpeglib_reference_generated(tmp_path, sub, progressive):
    skdata = pytest.importorskip("skimage.data")
    img = skdata.astronaut()[::2, ::2]
    path = tmp_path / "in.jpg"
    Image.fromarray(img).save(path, "JPEG", quality=90, subsampling=sub, progressive=progressive)
    t = fd_table()
    t2 = np.full((8, 8), 40, np.uint16)
    for tables, arg in (([t, t, t], t), ([t, t2, t2], [t, t2]), ([t2, t, t2], [t2, t, t2])):
        ref = reference_purified(path, tables, tmp_path)
        np.testing.assert_array_equal(fdjpeg.decode(path.read_bytes(), purify=arg), ref)


def test_purify_true_uses_default_table(tmp_path):
    img = (np.random.default_rng(1).random((24, 24)) * 255).astype(np.uint8)
    path = tmp_path / "g.jpg"
    Image.fromarray(img).save(path, "JPEG", quality=95)
    ref = reference_purified(path, [fd_table()], tmp_path)
    np.testing.assert_array_equal(fdjpeg.decode(path.read_bytes(), purify=True), ref)


@pytest.mark.skipif(not IMAGENET.is_dir(), reason=f"ImageNet sample not found at {IMAGENET}")
def test_purify_equals_jpeglib_reference_imagenet(tmp_path):
    """Every sampling the sample contains (4:4:4, 4:2:0, 4:2:2, 4:4:0, gray), restart files too."""
    t = fd_table()
    seen = {}
    for f in sorted(IMAGENET.glob("*.JPEG")):
        info = fdjpeg.inspect(f.read_bytes())
        key = (info["sampling"], info["restart_interval"] > 0, info["progressive"])
        if seen.get(key, 0) >= 3:
            continue
        seen[key] = seen.get(key, 0) + 1
        ref = reference_purified(f, [t] * info["num_components"], tmp_path)
        np.testing.assert_array_equal(fdjpeg.decode(f.read_bytes(), purify=t), ref, err_msg=f.name)
    assert {"4:4:4", "4:2:0", "gray"} <= {k[0] for k in seen}


def test_purify_refuses_lossless_files():
    path = CORPUS / "conformance" / "lossless" / "1" / "jpeg_lossless_sel1-8bit.jpg"
    if not path.is_file():
        pytest.skip(f"corpus file not found: {path}")
    with pytest.raises(fdjpeg.UnsupportedJPEGError, match="lossless"):
        fdjpeg.decode(path.read_bytes(), purify=True)


# ---------------------------------------------------------------- transcode(): FD as a file

def _pillow(data):
    return np.asarray(Image.open(io.BytesIO(data)))


@pytest.mark.parametrize("save", [
    {"quality": 90, "subsampling": 0},
    {"quality": 75, "subsampling": 2, "progressive": True},
    {"quality": 60, "subsampling": 1, "restart_marker_blocks": 3},
    {"quality": 95, "gray": True},
])
@pytest.mark.parametrize("spec", [True, "q30", 7, "pair"])
def test_transcode_coefficients_and_pixels(tmp_path, save, spec):
    """fdjpeg.transcode: the written coefficients are jpeglib's coefficients of the input
    requantized in numpy (closed form), and the file decodes (Pillow) exactly like the
    one-pass decode with the same table."""
    skdata = pytest.importorskip("skimage.data")
    save = dict(save)
    img = skdata.chelsea()[::2, ::2]
    if save.pop("gray", False):
        img = img[:, :, 1].copy()
    src = tmp_path / "in.jpg"
    Image.fromarray(img).save(src, "JPEG", **save)
    data = src.read_bytes()
    if spec == "pair":
        spec = [fdjpeg.tables.standard(20), fd_table()]
    out = fdjpeg.transcode(data, purify=spec)
    np.testing.assert_array_equal(_pillow(out), fdjpeg.decode(data, purify=spec))

    comps = ["Y", "Cb", "Cr"] if img.ndim == 3 else ["Y"]
    want = fdjpeg.tables.assign(spec, len(comps))
    j_in = jpeglib.read_dct(str(src))
    (tmp_path / "out.jpg").write_bytes(out)
    j_out = jpeglib.read_dct(str(tmp_path / "out.jpg"))
    for k, name in enumerate(comps):
        t = want[0][want[1][k]].reshape(8, 8)
        ref = requantize(getattr(j_in, name), j_in.qt[j_in.quant_tbl_no[k]], t)
        np.testing.assert_array_equal(getattr(j_out, name), ref, err_msg=name)
        np.testing.assert_array_equal(j_out.qt[j_out.quant_tbl_no[k]], t)


def test_transcode_without_purify_is_lossless(tmp_path):
    skdata = pytest.importorskip("skimage.data")
    src = tmp_path / "in.jpg"
    Image.fromarray(skdata.astronaut()[::4, ::4]).save(src, "JPEG", quality=80, subsampling=2)
    out = fdjpeg.transcode(src.read_bytes())
    (tmp_path / "out.jpg").write_bytes(out)
    a, b = jpeglib.read_dct(str(src)), jpeglib.read_dct(str(tmp_path / "out.jpg"))
    for name in ("Y", "Cb", "Cr"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    np.testing.assert_array_equal(_pillow(out), _pillow(src.read_bytes()))


def test_transcode_keeps_metadata_unless_told():
    buf = io.BytesIO()
    Image.fromarray(np.full((16, 16, 3), 90, np.uint8)).save(buf, "JPEG", comment="hello",
                                                             dpi=(300, 300))
    kept = Image.open(io.BytesIO(fdjpeg.transcode(buf.getvalue(), purify="fd")))
    assert kept.info["comment"] == b"hello" and kept.info["dpi"] == (300, 300)
    bare = Image.open(io.BytesIO(fdjpeg.transcode(buf.getvalue(), purify="fd",
                                                  keep_metadata=False)))
    assert "comment" not in bare.info


def test_transcode_refuses_lossless_with_the_way_that_works():
    from conftest import need_corpus

    path = need_corpus(CORPUS / "conformance" / "lossless" / "1" / "jpeg_lossless_sel1-8bit.jpg")
    with pytest.raises(fdjpeg.UnsupportedJPEGError, match=r"lossless.*fdjpeg\.encode"):
        fdjpeg.transcode(path.read_bytes(), purify=True)


def test_transcode_requantized_coefficient_out_of_range():
    """A step-1 table on a coarse file whose dequantized coefficient passes int16 is refused
    (C: fdj_requantize_coefficients), never wrapped."""
    from fdjpeg import _codec

    c = np.zeros((1, 1, 8, 8), np.int16)
    c[0, 0, 0, 0] = 1000
    q = np.full(64, 255, np.uint16)
    with pytest.raises(ValueError, match="16 bits"):
        _codec.requantize_coefficients(c, q, np.ones(64, np.uint16))
    # closed form, both signs, half away from zero
    c[0, 0, 0, 1] = -3
    c[0, 0, 0, 2] = 3
    out = _codec.requantize_coefficients(c, np.full(64, 5, np.uint16), np.full(64, 10, np.uint16))
    assert out[0, 0, 0, :3].tolist() == [500, -2, 2]


def test_transcode_keeps_higher_precision():
    """transcode writes a 12-bit JPEG as a 12-bit frame (never as 8-bit): T applies as 16 T,
    so the file decodes like decode(data, purify=T) (tests/test_precision.py checks it with
    libjpeg-turbo too)."""
    from conftest import need_corpus

    path = need_corpus(CORPUS / "precision" / "dicom_extended_12bit_gray.jpg")
    data = path.read_bytes()
    out = fdjpeg.transcode(data, purify=True)
    assert fdjpeg.inspect(out)["precision"] == 12
    np.testing.assert_array_equal(fdjpeg.decode(out), fdjpeg.decode(data, purify=True))
