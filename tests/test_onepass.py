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
