"""The Pillow drop-in (fdjpeg.pillow): open/save/register against Pillow 13 itself and jpeglib."""
import io
import pathlib
import warnings

import numpy as np
import pytest
from PIL import Image, ImageFile, ImageOps, JpegImagePlugin, UnidentifiedImageError

import fdjpeg
from fdjpeg import pillow as fdpil

jpeglib = pytest.importorskip("jpeglib")
skdata = pytest.importorskip("skimage.data")

CORPUS = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
FD = fdjpeg.tables.feature_distillation()


# --------------------------------------------------------------------------- helpers

def photo(name="astronaut", h=None, w=None):
    img = getattr(skdata, name)()
    if h:
        img = img[:h, :w]
    return np.ascontiguousarray(img)


def pil_bytes(arr_or_im, **kw):
    im = arr_or_im if isinstance(arr_or_im, Image.Image) else Image.fromarray(arr_or_im)
    buf = io.BytesIO()
    im.save(buf, "JPEG", **kw)
    return buf.getvalue()


def fd_bytes(arr_or_im, **kw):
    im = arr_or_im if isinstance(arr_or_im, Image.Image) else Image.fromarray(arr_or_im)
    buf = io.BytesIO()
    fdjpeg.save(im, buf, **kw)
    return buf.getvalue()


def dct(data, tmp_path, name="x.jpg"):
    p = tmp_path / name
    p.write_bytes(data)
    return jpeglib.read_dct(str(p))


def assert_same_coefficients(a, b, tmp_path):
    ja, jb = dct(a, tmp_path, "a.jpg"), dct(b, tmp_path, "b.jpg")
    np.testing.assert_array_equal(np.asarray(ja.samp_factor), np.asarray(jb.samp_factor))
    qa = [ja.qt[i] for i in ja.quant_tbl_no]
    qb = [jb.qt[i] for i in jb.quant_tbl_no]
    for x, y in zip(qa, qb):
        np.testing.assert_array_equal(x, y)
    for comp in ("Y", "Cb", "Cr", "K"):
        ca, cb = getattr(ja, comp, None), getattr(jb, comp, None)
        assert (ca is None) == (cb is None), comp
        if ca is not None:
            np.testing.assert_array_equal(ca, cb, err_msg=comp)


def generated_files():
    """(name, bytes) of JPEGs Pillow wrote with varied settings, plus scikit-image photos."""
    rng = np.random.default_rng(7)
    astro = photo("astronaut", 173, 251)
    cam = photo("camera", 97, 130)
    cmyk = Image.fromarray(astro).convert("CMYK")
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "fdjpeg-test"
    icc = bytes(rng.integers(0, 256, 70000, dtype=np.uint8))
    return [
        ("rgb-420", pil_bytes(astro)),
        ("rgb-444-q95", pil_bytes(astro, quality=95, subsampling=0)),
        ("rgb-422-progressive", pil_bytes(astro, subsampling=1, progressive=True)),
        ("rgb-optimize-restart", pil_bytes(astro, optimize=True, restart_marker_blocks=3)),
        ("gray", pil_bytes(cam, quality=60)),
        ("cmyk", pil_bytes(cmyk, quality=85)),
        ("metadata", pil_bytes(astro, dpi=(300, 150), exif=exif, icc_profile=icc, comment="hello")),
        ("coffee", pil_bytes(photo("coffee"), quality=88)),
        ("tiny", pil_bytes(astro[:3, :5])),
    ]


GENERATED = generated_files()


# --------------------------------------------------------------------------- open

@pytest.mark.parametrize("name,data", GENERATED, ids=[n for n, _ in GENERATED])
def test_open_matches_pillow(name, data):
    ref = Image.open(io.BytesIO(data))
    im = fdjpeg.open(io.BytesIO(data))
    assert isinstance(im, Image.Image) and isinstance(im, JpegImagePlugin.JpegImageFile)
    assert im.format == "JPEG" and ref.format == "JPEG"
    assert (im.mode, im.size) == (ref.mode, ref.size)
    assert im.info == ref.info
    assert im.quantization == ref.quantization
    assert JpegImagePlugin.get_sampling(im) == JpegImagePlugin.get_sampling(ref)
    np.testing.assert_array_equal(np.asarray(im), np.asarray(ref))


def _pillow_result(data):
    try:
        ref = Image.open(io.BytesIO(data))
        ref.load()
    except Exception as exc:  # noqa: BLE001 - any Pillow failure
        return exc
    return ref


def _precision(data):
    try:
        return fdjpeg.inspect(data)["precision"]
    except fdjpeg.JPEGError:
        return None


def test_open_corpus_matches_pillow():
    """Every conformance file (and the first ImageNet sample files): where Pillow decodes, the
    drop-in gives the same mode, size, info, tables and pixels; where Pillow fails, an OSError."""
    if not (CORPUS / "conformance").is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    files = sorted((CORPUS / "conformance").rglob("*.jpg"))
    files += sorted((CORPUS / "imagenet-sample").glob("*.JPEG"))[:8]
    unsupported = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in files:
            data = path.read_bytes()
            ref = _pillow_result(data)
            if isinstance(ref, Exception):
                if _precision(data) not in (None, 8):
                    # Pillow refuses every precision but 8; fdjpeg opens them (test_precision.py)
                    im = fdjpeg.open(io.BytesIO(data))
                    assert im.fdjpeg_precision == _precision(data), path
                    if im.mode == "I;16":
                        np.testing.assert_array_equal(np.asarray(im), fdjpeg.decode(data), str(path))
                    continue
                with pytest.raises(OSError):
                    fdjpeg.open(io.BytesIO(data)).load()
                continue
            if ref.format != "JPEG":  # e.g. a PNG named .jpg: not ours to open
                with pytest.raises(UnidentifiedImageError):
                    fdjpeg.open(io.BytesIO(data))
                continue
            im = fdjpeg.open(io.BytesIO(data))
            assert (im.mode, im.size, im.info, im.quantization) == (ref.mode, ref.size, ref.info, ref.quantization), path
            try:
                im.load()
            except fdjpeg.UnsupportedJPEGError:
                unsupported.append(path)
                continue
            np.testing.assert_array_equal(np.asarray(im), np.asarray(ref), err_msg=str(path))
    # the only files fdjpeg may decline are lossless (SOF3) ones
    assert all(fdjpeg.inspect(p.read_bytes())["sof"] == 3 for p in unsupported), unsupported


def test_malformed_files_never_crash():
    """Hostile files: either pixels or an OSError (Pillow's family), never anything else."""
    if not (CORPUS / "malformed").is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in sorted((CORPUS / "malformed").rglob("*.jpg")):
            try:
                im = fdjpeg.open(io.BytesIO(path.read_bytes()))
                im.load()
            except (OSError, Image.DecompressionBombError):
                continue
            assert im.size[0] > 0 and np.asarray(im).shape[:2] == im.size[::-1], path


def test_open_argument_forms(tmp_path):
    data = GENERATED[0][1]
    path = tmp_path / "a.jpg"
    path.write_bytes(data)
    ref = np.asarray(Image.open(io.BytesIO(data)))
    for arg in (str(path), path, io.BytesIO(data)):
        with fdjpeg.open(arg) as im:
            assert im.filename == (str(path) if not isinstance(arg, io.BytesIO) else "")
            np.testing.assert_array_equal(np.asarray(im), ref)
    with open(path, "rb") as fh:
        im = fdjpeg.open(fh)
        im.load()
        assert not fh.closed  # a caller's file object is not closed for them, as in Pillow
    im = fdjpeg.open(path)
    im.load()
    assert im.fp is None  # our own handle is closed after loading


def test_open_is_lazy(monkeypatch):
    calls = []
    real = fdpil._decode_pixels
    monkeypatch.setattr(fdpil, "_decode_pixels", lambda *a, **k: calls.append(k) or real(*a, **k))
    name, data = GENERATED[6]
    im = fdjpeg.open(io.BytesIO(data))
    assert im.size == (251, 173) and im.mode == "RGB"
    assert im.info["dpi"] == (300, 150) and im.info["comment"] == b"hello"
    assert im.getexif()[0x0112] == 6
    assert calls == []
    im.load()
    im.load()
    assert len(calls) == 1


@pytest.mark.parametrize("scale", [2, 4, 8])
@pytest.mark.parametrize("which", [0, 2, 4, 5])
def test_draft_matches_pillow(which, scale):
    name, data = GENERATED[which]
    ref = Image.open(io.BytesIO(data))
    im = fdjpeg.open(io.BytesIO(data))
    want = (ref.size[0] // scale, ref.size[1] // scale)
    r1 = ref.draft(ref.mode, want)
    r2 = im.draft(im.mode, want)
    assert r1 == r2
    assert im.size == ref.size and im.mode == ref.mode
    np.testing.assert_array_equal(np.asarray(im), np.asarray(ref), err_msg=f"{name} 1/{scale}")


def test_draft_gray_and_thumbnail():
    data = GENERATED[7][1]
    ref = Image.open(io.BytesIO(data))
    im = fdjpeg.open(io.BytesIO(data))
    assert ref.draft("L", (100, 100)) == im.draft("L", (100, 100))
    assert im.mode == "L"
    np.testing.assert_array_equal(np.asarray(im), np.asarray(ref))
    ref, im = Image.open(io.BytesIO(data)), fdjpeg.open(io.BytesIO(data))
    ref.thumbnail((64, 64))
    im.thumbnail((64, 64))
    np.testing.assert_array_equal(np.asarray(im), np.asarray(ref))
    im, ref = fdjpeg.open(io.BytesIO(data)), Image.open(io.BytesIO(data))
    assert im.draft("YCbCr", None) == ref.draft("YCbCr", None)  # raw planes: Pillow's decoder
    assert im.mode == "YCbCr"
    np.testing.assert_array_equal(np.asarray(im), np.asarray(ref))
    im = fdjpeg.open(io.BytesIO(data), purify=FD)
    im.draft("YCbCr", None)  # with purify= the request is declined (RGB stays, purified)
    assert im.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(im), fdjpeg.decode(data, purify=FD))


def test_purify_in_decoder_matches_coefficient_reference(tmp_path):
    """open(purify=T) == requantize the coefficients with numpy, write them with T (jpeglib),
    decode with Pillow."""
    data = GENERATED[1][1]
    im = fdjpeg.open(io.BytesIO(data), purify=FD)
    got = np.asarray(im)
    np.testing.assert_array_equal(got, fdjpeg.decode(data, purify=FD))
    src = tmp_path / "src.jpg"
    src.write_bytes(data)
    j = jpeglib.read_dct(str(src))
    t = FD.astype(np.int64)
    for comp, slot in zip(("Y", "Cb", "Cr"), j.quant_tbl_no):
        d = getattr(j, comp).astype(np.int64) * j.qt[slot].astype(np.int64)
        setattr(j, comp, (np.sign(d) * ((2 * np.abs(d) + t) // (2 * t))).astype(np.int16))
    j.qt = np.stack([FD, FD]).astype(np.uint16)
    ref_path = tmp_path / "ref.jpg"
    j.write_dct(str(ref_path))
    np.testing.assert_array_equal(got, np.asarray(Image.open(ref_path)))
    assert not np.array_equal(got, np.asarray(Image.open(io.BytesIO(data))))


def test_exif_transpose():
    data = GENERATED[6][1]
    ref = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    im = fdjpeg.open(io.BytesIO(data))
    assert im.size == (251, 173)  # orientation is not applied by default
    out = ImageOps.exif_transpose(im)
    assert out.size == ref.size == (173, 251)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(ref))


def test_errors_are_pillows():
    png = io.BytesIO()
    Image.fromarray(photo("camera", 16, 16)).save(png, "PNG")
    for bad in (png.getvalue(), b"", b"\xff\xd8\xff", b"not an image at all"):
        with pytest.raises(UnidentifiedImageError):
            fdjpeg.open(io.BytesIO(bad))
        with pytest.raises(UnidentifiedImageError):
            Image.open(io.BytesIO(bad), formats=["JPEG"])
    with pytest.raises(ValueError):
        fdjpeg.open(io.BytesIO(GENERATED[0][1]), "w")
    with pytest.raises(UnidentifiedImageError):
        fdjpeg.open(io.BytesIO(GENERATED[0][1]), formats=["PNG"])
    assert fdjpeg.open(io.BytesIO(GENERATED[0][1]), formats=["jpeg"]).format == "JPEG"
    with pytest.raises(TypeError):
        fdjpeg.open(io.BytesIO(GENERATED[0][1]), formats="JPEG")
    with pytest.raises(FileNotFoundError):
        fdjpeg.open("/nonexistent/x.jpg")


def test_decompression_bomb(monkeypatch):
    data = GENERATED[0][1]  # 251 x 173 = 43,423 pixels
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 20000)
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(data))
    with pytest.raises(Image.DecompressionBombError):
        fdjpeg.open(io.BytesIO(data))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 30000)
    with pytest.warns(Image.DecompressionBombWarning):
        fdjpeg.open(io.BytesIO(data))


def test_truncated(monkeypatch):
    data = GENERATED[0][1]
    cut = data[: len(data) * 2 // 3]
    with pytest.raises(OSError):
        Image.open(io.BytesIO(cut)).load()
    im = fdjpeg.open(io.BytesIO(cut))
    assert im.size == (251, 173)
    with pytest.raises(OSError):
        im.load()
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    got = np.asarray(fdjpeg.open(io.BytesIO(cut)))
    ref = np.asarray(Image.open(io.BytesIO(cut)))
    assert got.shape == ref.shape
    np.testing.assert_array_equal(got[:64], ref[:64])  # the part that was there


def test_corrupt_data_raises_oserror():
    data = bytearray(GENERATED[0][1])
    sos = data.find(b"\xff\xda")
    data[sos + 2:sos + 4] = b"\x00\x01"  # bad SOS length
    im = fdjpeg.open(io.BytesIO(bytes(data)))
    with pytest.raises(OSError):
        im.load()


# --------------------------------------------------------------------------- save

RGB = photo("astronaut", 171, 253)
GRAY = photo("camera", 99, 131)

SAVE_CASES = [
    ("default", RGB, {}),
    ("q1", RGB, {"quality": 1}),
    ("q50", RGB, {"quality": 50}),
    ("q95-444", RGB, {"quality": 95, "subsampling": 0}),
    ("q100", RGB, {"quality": 100}),
    ("q0", RGB, {"quality": 0}),
    ("q-5", RGB, {"quality": -5}),
    ("q150", RGB, {"quality": 150}),
    ("preset-web_high", RGB, {"quality": "web_high"}),
    ("preset-low", RGB, {"quality": "low"}),
    ("ss-422", RGB, {"subsampling": "4:2:2"}),
    ("ss-1", RGB, {"subsampling": 1}),
    ("ss-411", RGB, {"subsampling": "4:1:1"}),
    ("ss-7", RGB, {"subsampling": 7}),
    ("ss-preset", RGB, {"subsampling": "web_low"}),
    ("qt-list", RGB, {"qtables": [list(range(1, 65)), [9] * 64]}),
    ("qt-one", RGB, {"qtables": [list(range(2, 66))]}),
    ("qt-three", RGB, {"qtables": [[5] * 64, [7] * 64, [11] * 64], "subsampling": 0}),
    ("qt-dict", RGB, {"qtables": {0: [4] * 64, 1: [6] * 64}}),
    ("qt-text", RGB, {"qtables": "\n".join(" ".join(str(3 + (i + j) % 5) for j in range(8)) for i in range(8))}),
    ("qt-preset", RGB, {"qtables": "web_maximum"}),
    ("qt-with-quality", RGB, {"qtables": [list(range(10, 74))] * 2, "quality": 75}),
    ("qt-16bit", RGB, {"qtables": [[300] * 64, [9] * 64]}),
    ("optimize", RGB, {"optimize": True, "quality": 80}),
    ("progressive", RGB, {"progressive": True}),
    ("progression", RGB, {"progression": True, "subsampling": 0}),
    ("restart-blocks", RGB, {"restart_marker_blocks": 5}),
    ("restart-rows", RGB, {"restart_marker_rows": 2}),
    ("keep-rgb", RGB, {"keep_rgb": True}),
    ("keep-rgb-444", RGB, {"keep_rgb": True, "subsampling": 0, "quality": 90}),
    ("gray", GRAY, {"quality": 70}),
    ("gray-ss", GRAY, {"subsampling": 2, "qtables": [[12] * 64]}),
    ("unknown-keyword-ignored", RGB, {"foo": 1, "bits": 8}),
]


@pytest.mark.parametrize("name,arr,kw", SAVE_CASES, ids=[c[0] for c in SAVE_CASES])
def test_save_same_coefficients_as_pillow(name, arr, kw, tmp_path):
    ours, pillows = fd_bytes(arr, **kw), pil_bytes(arr, **kw)
    assert_same_coefficients(ours, pillows, tmp_path)
    # stronger: the very same file (markers, Huffman tables, progressive scan script)
    assert ours == pillows


@pytest.mark.parametrize("mode", ["CMYK", "1", "RGBX"])
def test_save_modes(mode, tmp_path):
    im = Image.fromarray(RGB).convert(mode)
    for kw in ({}, {"quality": 90, "subsampling": 2}, {"progressive": True, "optimize": True}):
        a, b = fd_bytes(im, **kw), pil_bytes(im, **kw)
        assert_same_coefficients(a, b, tmp_path)
        assert a == b
        ra, rb = Image.open(io.BytesIO(a)), Image.open(io.BytesIO(b))
        assert ra.mode == rb.mode and ra.info == rb.info
        np.testing.assert_array_equal(np.asarray(ra), np.asarray(rb))


def test_save_keep_from_jpeg(tmp_path):
    src = pil_bytes(RGB, quality=83, subsampling=1)
    for kw in ({"quality": "keep"}, {"qtables": "keep", "subsampling": "keep"}):
        a = fd_bytes(fdjpeg.open(io.BytesIO(src)), **kw)
        b = pil_bytes(Image.open(io.BytesIO(src)), **kw)
        assert_same_coefficients(a, b, tmp_path)
    with pytest.raises(ValueError, match="keep"):
        fd_bytes(RGB, quality="keep")
    with pytest.raises(ValueError, match="keep"):
        fd_bytes(RGB, subsampling="keep")


def test_save_metadata_round_trips(tmp_path):
    rng = np.random.default_rng(3)
    exif = Image.Exif()
    exif[0x0112] = 3
    exif[0x0131] = "fdjpeg"
    kw = {
        "dpi": (299.6, 72.2),
        "icc_profile": bytes(rng.integers(0, 256, 140000, dtype=np.uint8)),  # three APP2 chunks
        "exif": exif,
        "xmp": b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>",
        "comment": "made by fdjpeg \u2713",
    }
    ours, pillows = fd_bytes(RGB, **kw), pil_bytes(RGB, **kw)
    assert ours == pillows
    a, b = Image.open(io.BytesIO(ours)), Image.open(io.BytesIO(pillows))
    assert a.info == b.info
    assert a.info["icc_profile"] == kw["icc_profile"]
    assert a.info["dpi"] == (300, 72)
    assert a.getexif()[0x0112] == 3
    assert a.applist == b.applist
    # the comment of an opened JPEG is carried over when re-saving, as in Pillow
    again = Image.open(io.BytesIO(fd_bytes(fdjpeg.open(io.BytesIO(fd_bytes(RGB, comment=b"keep me"))))))
    assert again.info["comment"] == b"keep me"


def test_save_pixels_decode_like_pillow():
    a = Image.open(io.BytesIO(fd_bytes(RGB, quality=90)))
    b = Image.open(io.BytesIO(pil_bytes(RGB, quality=90)))
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_save_fd_table(tmp_path):
    data = fd_bytes(RGB, table=FD, subsampling=0)
    j = dct(data, tmp_path)
    for slot in j.quant_tbl_no:
        np.testing.assert_array_equal(j.qt[slot], FD)
    # two-pass: decoding with purify=T is the identity on a file written with T
    np.testing.assert_array_equal(fdjpeg.decode(data, purify=FD), fdjpeg.decode(data))
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(data))),
                                  np.asarray(Image.open(io.BytesIO(pil_bytes(RGB, qtables=[FD.ravel().tolist()] * 2, subsampling=0)))))
    with pytest.raises(ValueError):
        fd_bytes(RGB, table=FD, quality=50)


def test_registered_save_hands_what_fdjpeg_lacks_to_pillow(tmp_path):
    """Finding 6: after register(), third-party Image.save calls with keywords or modes fdjpeg's
    encoder lacks keep working, with exactly Pillow's bytes; fdjpeg.save does the same."""
    ycbcr = Image.fromarray(RGB).convert("YCbCr")
    cases = [(Image.fromarray(RGB), {"smooth": 10}), (Image.fromarray(RGB), {"streamtype": 1}),
             (Image.fromarray(RGB), {"streamtype": 2}), (Image.fromarray(GRAY), {"smooth": 50, "quality": 60}),
             (ycbcr, {}), (ycbcr, {"quality": 90, "subsampling": 0})]
    expected = [pil_bytes(im, **kw) for im, kw in cases]
    assert expected[0] != pil_bytes(RGB)  # smoothing changes the file
    try:
        fdpil.register(purify=FD)
        for (im, kw), want in zip(cases, expected):
            buf = io.BytesIO()
            im.save(buf, "JPEG", **kw)
            assert buf.getvalue() == want, kw
            assert fdpil.pillow_road(im, **kw) is not None
            p = tmp_path / "third-party.jpg"
            im.save(p, **kw)
            assert p.read_bytes() == want
    finally:
        fdpil.unregister()
    for (im, kw), want in zip(cases, expected):
        assert fd_bytes(im, **kw) == want
    assert fdpil.pillow_road(Image.fromarray(RGB), smooth=0, streamtype=0, quality=80) is None
    with pytest.raises(NotImplementedError, match="smooth"):  # Pillow's encoder has no FD table
        fd_bytes(RGB, smooth=10, table=FD)
    with pytest.raises(OSError, match="RGBA"):
        fd_bytes(Image.new("RGBA", (8, 8)))
    with pytest.raises(OSError, match="RGBA"):
        pil_bytes(Image.new("RGBA", (8, 8)))
    with pytest.raises(ValueError):
        fdjpeg.save(Image.fromarray(RGB), io.BytesIO(), format="PNG")
    with pytest.raises(TypeError):
        fdjpeg.save(RGB, io.BytesIO())
    assert set(fdpil.SAVE_KEYWORDS) >= {"quality", "subsampling", "qtables", "optimize", "progressive", "dpi",
                                        "icc_profile", "exif", "comment", "restart_marker_blocks",
                                        "restart_marker_rows", "keep_rgb", "smooth", "streamtype", "xmp"}


def test_save_errors_and_unimplemented():
    for kw, exc in (({"quality": "bogus"}, ValueError), ({"quality": 2.5}, ValueError),
                    ({"qtables": [[1] * 63]}, ValueError), ({"qtables": [[1] * 64] * 5}, ValueError),
                    ({"qtables": "1 2 x"}, ValueError), ({"subsampling": "4:4:0"}, TypeError),
                    ({"keep_rgb": True, "subsampling": 2}, OSError),
                    ({"comment": b"x" * 70000}, ValueError), ({"exif": b"x" * 70000}, ValueError)):
        with pytest.raises(exc):
            fd_bytes(RGB, **kw)
        with pytest.raises(exc):
            pil_bytes(RGB, **kw)


def test_save_to_path(tmp_path):
    p = tmp_path / "out.jpg"
    fdjpeg.save(Image.fromarray(RGB), p, quality=80)
    fdjpeg.save(Image.fromarray(RGB), str(tmp_path / "out2.jpeg"), "JPEG", quality=80)
    assert p.read_bytes() == (tmp_path / "out2.jpeg").read_bytes()
    with pytest.raises(ValueError, match="PNG"):
        fdjpeg.save(Image.fromarray(RGB), tmp_path / "out.png")
    fdjpeg.save(Image.fromarray(RGB), tmp_path / "really-a-jpeg.png", "JPEG", quality=80)
    assert Image.open(tmp_path / "really-a-jpeg.png").format == "JPEG"
    assert Image.open(p).size == (253, 171)


# --------------------------------------------------------------------------- register

def test_register_routes_pillow_and_unregister_restores(tmp_path):
    open_before = Image.OPEN["JPEG"]
    save_before = Image.SAVE["JPEG"]
    data = GENERATED[1][1]
    p = tmp_path / "registered.jpg"
    p.write_bytes(data)
    try:
        fdpil.register(purify=FD)
        im = Image.open(p)
        assert isinstance(im, fdpil.FDJpegImageFile) and im.format == "JPEG"
        np.testing.assert_array_equal(np.asarray(im), fdjpeg.decode(data, purify=FD))
        calls = []
        real = fdpil.encode_image
        fdpil.encode_image = lambda *a, **k: calls.append(k) or real(*a, **k)
        try:
            buf = io.BytesIO()
            Image.fromarray(RGB).save(buf, "JPEG", quality=77)
        finally:
            fdpil.encode_image = real
        assert calls and calls[0]["quality"] == 77
        assert_same_coefficients(buf.getvalue(), pil_bytes(RGB, quality=77), tmp_path)
        fdpil.register(purify=None)  # again: only purify changes
        np.testing.assert_array_equal(np.asarray(Image.open(p)), np.asarray(Image.open(io.BytesIO(data))))
    finally:
        fdpil.unregister()
    assert Image.OPEN["JPEG"] is open_before and Image.SAVE["JPEG"] is save_before
    im = Image.open(p)
    assert type(im) is JpegImagePlugin.JpegImageFile
    assert not fdpil.is_registered()
    fdpil.unregister()  # harmless when not registered


# --------------------------------------------------------------------------- worker processes

import multiprocessing  # noqa: E402
import os  # noqa: E402
import pickle  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import _workers  # noqa: E402

START_METHODS = [m for m in ("fork", "spawn", "forkserver") if m in multiprocessing.get_all_start_methods()]


@pytest.fixture
def jpeg_file(tmp_path):
    data = GENERATED[1][1]
    path = tmp_path / "w.jpg"
    path.write_bytes(data)
    return str(path), data


@pytest.mark.parametrize("method", START_METHODS)
def test_pool_workers_get_the_registration(method, jpeg_file):
    """Finding 1: Pool(initializer=worker_init) purifies in every start method; spawn and
    forkserver workers without it are not registered (and say so), fork workers inherit it."""
    path, data = jpeg_file
    purified = fdjpeg.decode(data, purify=FD)
    plain = np.asarray(Image.open(io.BytesIO(data)))
    assert not np.array_equal(purified, plain)
    ctx = multiprocessing.get_context(method)
    try:
        fdpil.register(purify=FD)
        assert fdpil.is_registered()
        with ctx.Pool(1, initializer=fdpil.worker_init) as pool:
            registered, cls, pixels = pool.apply(_workers.probe, (path,))
        assert registered and cls == "FDJpegImageFile"
        np.testing.assert_array_equal(pixels, purified)
        with ctx.Pool(1) as pool:  # no initializer
            registered, cls, pixels = pool.apply(_workers.probe, (path,))
        if method == "fork":  # the registry is copied with the process
            assert registered
            np.testing.assert_array_equal(pixels, purified)
        else:  # a fresh interpreter: Pillow's own plugin, and is_registered() tells
            assert not registered and cls == "JpegImageFile"
            np.testing.assert_array_equal(pixels, plain)
    finally:
        fdpil.unregister()
    assert not fdpil.is_registered()
    with ctx.Pool(1, initializer=fdpil.worker_init) as pool:  # nothing to re-apply: Pillow's own
        registered, cls, pixels = pool.apply(_workers.probe, (path,))
    assert not registered and cls == "JpegImageFile"


def test_worker_init_carries_the_registration_and_env(jpeg_file):
    path, data = jpeg_file
    assert fdpil.ENV_VAR not in os.environ
    fdpil.worker_init()  # no registration anywhere: a no-op
    fdpil.worker_init(3)  # DataLoader passes the worker id
    assert not fdpil.is_registered()
    try:
        fdpil.register(purify=FD, save=False)
        assert Image.SAVE["JPEG"] is JpegImagePlugin._save
        env = os.environ[fdpil.ENV_VAR]
        carried = pickle.loads(pickle.dumps(fdpil.worker_init))
        fdpil.unregister()
        assert not fdpil.is_registered() and fdpil.ENV_VAR not in os.environ
        carried(0)  # the pickled initializer re-applies the parent's registration, purify= included
        assert fdpil.is_registered() and Image.SAVE["JPEG"] is JpegImagePlugin._save
        np.testing.assert_array_equal(np.asarray(Image.open(path)), fdjpeg.decode(data, purify=FD))
        fdpil.unregister()
        os.environ[fdpil.ENV_VAR] = env  # what a child process inherits
        fdpil.worker_init()
        assert fdpil.is_registered()
        np.testing.assert_array_equal(np.asarray(Image.open(path)), fdjpeg.decode(data, purify=FD))
        fdpil.unregister()
        os.environ[fdpil.ENV_VAR] = "not json"
        with pytest.raises(ValueError, match=fdpil.ENV_VAR):
            fdpil.worker_init()
    finally:
        fdpil.unregister()
    assert fdpil.ENV_VAR not in os.environ
    with pytest.raises(TypeError, match="purify"):
        fdpil.register(purify=object())
    assert not fdpil.is_registered()


def test_mpo_frames_are_purified(tmp_path):
    """Multi-picture files (MPO: many phone and stereo-camera JPEGs) open as Pillow opens them
    (format MPO, frames), and every frame is decoded - and purified - by fdjpeg, registered too."""
    frames = [Image.fromarray(RGB), Image.fromarray(RGB[::-1].copy()), Image.fromarray(RGB[:, ::-1].copy())]
    buf = io.BytesIO()
    frames[0].save(buf, "MPO", save_all=True, append_images=frames[1:], quality=85)
    data = buf.getvalue()
    ref = Image.open(io.BytesIO(data))
    assert ref.format == "MPO" and ref.n_frames == 3
    path = tmp_path / "three.mpo"
    path.write_bytes(data)
    for im in (fdjpeg.open(io.BytesIO(data), purify=FD), None):
        if im is None:
            fdpil.register(purify=FD)
            try:
                im = Image.open(path)
                im.load()
            finally:
                fdpil.unregister()
        assert isinstance(im, fdpil.FDMpoImageFile) and im.format == "MPO" and im.n_frames == 3
        for i in range(3):
            ref.seek(i)
            im.seek(i)
            plain = np.asarray(ref)
            got = np.asarray(im)
            np.testing.assert_array_equal(got, fdjpeg.decode(data[ref.offset:], purify=FD))
            assert not np.array_equal(got, plain)


def test_worker_init_from_env_keeps_every_table_form(jpeg_file):
    """The environment copy of the registration (JSON) means the same tables in every form."""
    path, data = jpeg_file
    chroma = np.full((8, 8), 23, np.uint16)
    for purify in (True, FD, FD.ravel().tolist(), [FD, chroma], {0: FD, 1: chroma}):
        want = fdjpeg.decode(data, purify=purify)
        try:
            fdpil.register(purify=purify)
            env = os.environ[fdpil.ENV_VAR]
            fdpil.unregister()
            os.environ[fdpil.ENV_VAR] = env  # as a spawned child inherits it
            fdpil.worker_init()
            assert fdpil.is_registered()
            np.testing.assert_array_equal(np.asarray(Image.open(path)), want)
        finally:
            fdpil.unregister()
