"""scale=8 decodes of single-scan sequential files store only the DC coefficients in the Huffman
decoder (dec_huff_mcu.h, DEC_HUFF_MCU_DCONLY): the 1x1 IDCTs read nothing else.  Reference: the
same coefficients as a progressive file (jpegtran, lossless; multi-scan files keep every
coefficient) and Pillow's draft(); crafted coefficients with long codes, restart intervals,
truncated data, regions and the scalar kernels."""
import io

import numpy as np
import pytest
from PIL import Image, ImageFile

import fdjpeg
from test_onepass_huff import crafted, progressive, with_restarts
from test_simd import scalar_kernels

jpeglib = pytest.importorskip("jpeglib")


def pillow_draft8(data, truncated=False):
    old = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = truncated
    try:
        im = Image.open(io.BytesIO(data))
        im.draft(im.mode, (im.width // 8, im.height // 8))
        return np.asarray(im)
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = old


@pytest.mark.parametrize("sub", [0, 1])  # 4:4:4 and 4:2:2: every component 1x1 at scale 8
def test_scale8_equals_progressive_and_pillow_draft(tmp_path, sub):
    rng = np.random.default_rng(80 + sub)
    path = crafted(tmp_path, rng, sub=sub, quality=90, cap=1000, density=0.3, dc_amp=300)
    data, prog = path.read_bytes(), progressive(path, tmp_path)
    got = fdjpeg.decode(data, scale=8)
    assert got.shape[:2] == (6, 10)
    np.testing.assert_array_equal(got, fdjpeg.decode(prog, scale=8))
    np.testing.assert_array_equal(got, pillow_draft8(data))
    np.testing.assert_array_equal(fdjpeg.decode(with_restarts(path, tmp_path), scale=8), got)
    np.testing.assert_array_equal(fdjpeg.decode(data, scale=8, region=(3, 1, 5, 4)), got[1:5, 3:8])
    table = np.asarray(fdjpeg.tables.feature_distillation(), np.uint16)
    fd = fdjpeg.decode(data, scale=8, purify=table)
    np.testing.assert_array_equal(fd, fdjpeg.decode(prog, scale=8, purify=table))
    with scalar_kernels():
        np.testing.assert_array_equal(fdjpeg.decode(data, scale=8), got)
        np.testing.assert_array_equal(fdjpeg.decode(data, scale=8, purify=table), fd)


def test_scale8_truncated_leaves_the_rest_as_pillow(tmp_path):
    rng = np.random.default_rng(90)
    path = crafted(tmp_path, rng, quality=90, density=0.3, dc_amp=300)
    data = path.read_bytes()
    cut = data[: len(data) // 2]
    got = fdjpeg.decode(cut, scale=8, allow_truncated=True)
    full8 = fdjpeg.decode(data, scale=8)
    np.testing.assert_array_equal(got[:1], full8[:1])
    # the rows after the cut: what the full-size decode's truncated rows reduce to
    with scalar_kernels():
        np.testing.assert_array_equal(fdjpeg.decode(cut, scale=8, allow_truncated=True), got)
    np.testing.assert_array_equal(got, pillow_draft8(cut, truncated=True))
