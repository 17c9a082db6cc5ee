"""Decoder exactness against Pillow (libjpeg-turbo 3.2) and jpeglib, plus API behaviour."""
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import fdjpeg

from conftest import CORPUS, IMAGENET  # FDJPEG_CORPUS or ../shared/corpus
RNG = np.random.default_rng(1234)


def pil_bytes(arr, **kw):
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", **kw)
    return buf.getvalue()


def pil_pixels(data):
    return np.asarray(Image.open(io.BytesIO(data)))


def photo(h, w, gray=False):
    """A smooth synthetic photo-like image with texture and edges."""
    y, x = np.mgrid[0:h, 0:w]
    base = 128 + 60 * np.sin(x / 5.0) * np.cos(y / 7.0)
    noise = RNG.normal(0, 18, (h, w, 3))
    img = np.clip(base[..., None] + noise + np.array([0, 30, -30]), 0, 255).astype(np.uint8)
    return img[..., 0] if gray else img


def skimage_photos():
    data = pytest.importorskip("skimage.data")
    return {name: getattr(data, name)() for name in ("astronaut", "chelsea", "coffee", "camera", "rocket")}


SUBSAMPLING = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}


@pytest.mark.parametrize("sub", list(SUBSAMPLING))
@pytest.mark.parametrize("h,w", [(1, 1), (1, 17), (2, 3), (7, 9), (8, 8), (9, 16), (15, 17), (16, 33), (17, 33)])
def test_edge_sizes_exact(h, w, sub):
    img = photo(h, w)
    data = pil_bytes(img, quality=85, subsampling=SUBSAMPLING[sub])
    np.testing.assert_array_equal(fdjpeg.decode(data), pil_pixels(data))


@pytest.mark.parametrize("h,w", [(1, 1), (5, 13), (17, 33), (64, 48)])
def test_gray_exact(h, w):
    data = pil_bytes(photo(h, w, gray=True), quality=70)
    out = fdjpeg.decode(data)
    assert out.shape == (h, w)
    np.testing.assert_array_equal(out, pil_pixels(data))


@pytest.mark.parametrize("kw", [
    dict(quality=95, subsampling=0),
    dict(quality=50, subsampling=2, optimize=True),
    dict(quality=75, subsampling=1, progressive=True),
    dict(quality=30, subsampling=2, progressive=True, optimize=True),
    dict(quality=90, subsampling=2, restart_marker_blocks=3),
    dict(quality=80, subsampling=0, restart_marker_rows=1),
    dict(quality=100, subsampling=0),
    dict(quality=1, subsampling=2),
])
def test_skimage_photos_exact(kw):
    for name, img in skimage_photos().items():
        data = pil_bytes(img, **kw)
        np.testing.assert_array_equal(fdjpeg.decode(data), pil_pixels(data), err_msg=f"{name} {kw}")


def test_sixteen_bit_tables_exact():
    img = photo(40, 56)
    t = RNG.integers(1, 8191, size=64).tolist()
    data = pil_bytes(img, qtables=[t, t], subsampling=0)
    assert fdjpeg.inspect(data)["sof"] == 1
    np.testing.assert_array_equal(fdjpeg.decode(data), pil_pixels(data))


@pytest.mark.parametrize("scale", [2, 4, 8])
@pytest.mark.parametrize("sub", [0, 2])
def test_scaled_decode_equals_pillow_draft(scale, sub):
    img = skimage_photos()["astronaut"]
    data = pil_bytes(img, quality=80, subsampling=sub)
    im = Image.open(io.BytesIO(data))
    im.draft("RGB", (im.size[0] // scale, im.size[1] // scale))
    np.testing.assert_array_equal(fdjpeg.decode(data, scale=scale), np.asarray(im))


def test_mode_gray_and_rgb():
    img = photo(33, 47)
    data = pil_bytes(img, quality=80, subsampling=2)
    gray = fdjpeg.decode(data, mode="L")
    assert gray.shape == (33, 47)
    # libjpeg's YCbCr->gray output is the Y plane: equal to Pillow's draft to "L"
    im = Image.open(io.BytesIO(data))
    im.draft("L", im.size)
    np.testing.assert_array_equal(gray, np.asarray(im))
    gdata = pil_bytes(photo(9, 9, gray=True))
    rgb = fdjpeg.decode(gdata, mode="RGB")
    np.testing.assert_array_equal(rgb, np.asarray(Image.open(io.BytesIO(gdata)).convert("RGB")))


def test_out_parameter_and_buffer_types():
    data = pil_bytes(photo(20, 30))
    ref = pil_pixels(data)
    out = np.zeros((20, 30, 3), np.uint8)
    res = fdjpeg.decode(data, out=out)
    assert res is out
    np.testing.assert_array_equal(out, ref)
    for buf in (bytearray(data), memoryview(data), np.frombuffer(data, np.uint8)):
        np.testing.assert_array_equal(fdjpeg.decode(buf), ref)
    with pytest.raises(ValueError):
        fdjpeg.decode(data, out=np.zeros((20, 31, 3), np.uint8))
    with pytest.raises(ValueError):
        fdjpeg.decode(data, out=np.zeros((20, 30, 3), np.float32))


def test_misuse_raises_type_and_value_errors():
    data = pil_bytes(photo(8, 8))
    with pytest.raises(TypeError):
        fdjpeg.decode("file.jpg")
    with pytest.raises(TypeError):
        fdjpeg.decode(12)
    with pytest.raises(ValueError):
        fdjpeg.decode(data, scale=3)
    with pytest.raises(ValueError):
        fdjpeg.decode(data, mode="HSV")
    with pytest.raises(ValueError):
        fdjpeg.decode(data, max_pixels=0)


def test_errors_are_jpegerror_subclasses_of_oserror():
    assert issubclass(fdjpeg.JPEGError, OSError)
    with pytest.raises(fdjpeg.NotJPEGError, match="no SOI"):
        fdjpeg.decode(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(fdjpeg.JPEGError):
        fdjpeg.decode(b"")
    data = pil_bytes(photo(64, 64))
    with pytest.raises(fdjpeg.TruncatedJPEGError):
        fdjpeg.decode(data[: len(data) // 2])
    with pytest.raises(fdjpeg.JPEGTooLargeError, match="exceeds the limit"):
        fdjpeg.decode(data, max_pixels=64 * 64 - 1)


def test_allow_truncated_matches_pillow_load_truncated():
    from PIL import ImageFile

    data = pil_bytes(photo(64, 80), quality=90)
    for cut in (len(data) // 3, len(data) // 2, len(data) - 10):
        part = data[:cut]
        ImageFile.LOAD_TRUNCATED_IMAGES = True
        try:
            ref = pil_pixels(part)
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = False
        np.testing.assert_array_equal(fdjpeg.decode(part, allow_truncated=True), ref)


def test_read_coefficients_equal_jpeglib(tmp_path):
    jpeglib = pytest.importorskip("jpeglib")
    for sub in (0, 1, 2):
        data = pil_bytes(photo(37, 53), quality=70, subsampling=sub, progressive=(sub == 1))
        path = tmp_path / f"c{sub}.jpg"
        path.write_bytes(data)
        ref = jpeglib.read_dct(str(path))
        got = fdjpeg.read_coefficients(data)
        for mine, theirs in zip(got["coefficients"], (ref.Y, ref.Cb, ref.Cr)):
            np.testing.assert_array_equal(mine, theirs)
        for t, slot in zip(got["tables"], ref.quant_tbl_no):
            np.testing.assert_array_equal(t, ref.qt[slot])


def test_inspect_matches_pillow_info():
    img = photo(30, 40)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=60, dpi=(300, 300), comment=b"hello",
                              icc_profile=b"x" * 70000, progressive=True)
    data = buf.getvalue()
    info = fdjpeg.inspect(data)
    im = Image.open(io.BytesIO(data))
    assert info["size"] == im.size and info["mode"] == im.mode
    for key in ("jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi", "icc_profile",
                "comment", "progressive"):
        assert info[key] == im.info[key], key
    for slot, table in im.quantization.items():  # both in natural order
        assert np.asarray(info["qtables"][slot]).ravel().tolist() == list(table)
    names = [m[0] for m in info["markers"]]
    assert names[0] == "SOI" and names[-1] == "EOI" and names.count("SOS") == info["scans"] > 1


@pytest.mark.skipif(not IMAGENET.is_dir(), reason=f"ImageNet sample not found at {IMAGENET}")
def test_imagenet_sample_bit_exact():
    files = sorted(IMAGENET.glob("*.JPEG"))
    assert len(files) == 1000
    mismatches = []
    for f in files:
        data = f.read_bytes()
        if not np.array_equal(fdjpeg.decode(data), pil_pixels(data)):
            mismatches.append(f.name)
    assert mismatches == []


def test_purify_takes_the_table_vocabulary():
    """Issue 14: decode(data, purify="fd") raised TypeError while the CLI took "fd"; every
    form of fdjpeg.tables.parse now works the same in decode."""
    data = pil_bytes(photo(48, 40))
    fd = fdjpeg.decode(data, purify=True)
    np.testing.assert_array_equal(fdjpeg.decode(data, purify="fd"), fd)
    np.testing.assert_array_equal(fdjpeg.decode(data, purify="default"), fd)
    np.testing.assert_array_equal(fdjpeg.decode(data, purify=12),
                                  fdjpeg.decode(data, purify=np.full((8, 8), 12)))
    np.testing.assert_array_equal(fdjpeg.decode(data, purify="q50"),
                                  fdjpeg.decode(data, purify=[fdjpeg.tables.standard(50),
                                                              fdjpeg.tables.standard(50, True)]))
    with pytest.raises(ValueError, match="table 'nope'"):
        fdjpeg.decode(data, purify="nope")
