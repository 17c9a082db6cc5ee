"""fdjpeg.purify (fused pixel path) against independent references: Pillow's
JPEG round trip with the same table (libjpeg-turbo 3.2), and decoding the file
fdjpeg.encode writes (with Pillow, and with fdjpeg's own decoder)."""
import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

import fdjpeg
from fdjpeg._encode_api import encode, purify

from conftest import CORPUS, IMAGENET  # FDJPEG_CORPUS or ../shared/corpus
PILLOW_SUB = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}


def pillow_roundtrip(img, tables, sub):
    """Pillow encode with qtables then Pillow decode."""
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", qtables=[list(np.ravel(t)) for t in tables],
                              subsampling=PILLOW_SUB[sub])
    with Image.open(io.BytesIO(buf.getvalue())) as im:
        return np.asarray(im)


def pil_decode(b):
    with Image.open(io.BytesIO(b)) as im:
        return np.asarray(im)


def fd_table():
    t = np.full((8, 8), 30, np.uint16)
    t[:4, :4] = 25  # the paper's released table
    return t


def noise(h, w, c=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (h, w, c) if c else (h, w), dtype=np.uint8)


PHOTOS = [data.astronaut, data.chelsea, data.coffee, data.rocket]


@pytest.mark.parametrize("photo", PHOTOS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("sub", ["4:4:4", "4:2:2", "4:2:0"])
def test_photos_equal_pillow_roundtrip(photo, sub):
    img = photo()
    T = fd_table()
    out = purify(img, T, subsampling=sub)
    ref = pillow_roundtrip(img, [T, T], sub)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.array_equal(out, ref), int(np.count_nonzero(out != ref))
    assert not np.array_equal(out, img)  # it did something


@pytest.mark.parametrize("sub", ["4:4:4", "4:2:2", "4:2:0"])
def test_edge_sizes_random_tables(sub):
    rng = np.random.default_rng(7)
    n = 0
    for h in list(range(1, 19)) + [31, 33, 34]:
        for w in (1, 2, 3, 4, 5, 8, 9, 16, 17, 33):
            img = noise(h, w, seed=h * 50 + w)
            T = rng.integers(1, 120, (8, 8)).astype(np.uint16)
            assert np.array_equal(purify(img, T, subsampling=sub),
                                  pillow_roundtrip(img, [T, T], sub)), (h, w)
            n += 1
    assert n == 21 * 10


def test_per_component_and_pillow_slot_tables():
    img = data.coffee()[:90, :130]
    rng = np.random.default_rng(3)
    a, b, c = (rng.integers(1, 90, (8, 8)).astype(np.uint16) for _ in range(3))
    assert np.array_equal(purify(img, [a, b, c], subsampling="4:2:0"),
                          pillow_roundtrip(img, [a, b, c], "4:2:0"))
    assert np.array_equal(purify(img, [a, b]), pillow_roundtrip(img, [a, b], "4:4:4"))


def test_16bit_tables_up_to_8191():
    img = data.chelsea()[:64, :64]
    rng = np.random.default_rng(5)
    T = rng.integers(1, 8192, (8, 8)).astype(np.uint16)
    T[0, 0] = 4
    assert np.array_equal(purify(img, T), pillow_roundtrip(img, [T, T], "4:4:4"))


def test_gray():
    img = data.camera()
    T = fd_table()
    out = purify(img, T)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", qtables=[list(T.ravel())])
    assert out.shape == img.shape
    assert np.array_equal(out, pil_decode(buf.getvalue()))
    assert np.array_equal(purify(img[:, :, None], T)[:, :, 0], out)


@pytest.mark.parametrize("sub", ["4:4:4", "4:2:2", "4:2:0", "4:4:0", "4:1:1"])
def test_equals_decode_of_encode(sub):
    """purify(x, T) == decode(encode(x, T)) with Pillow's decoder, and with
    fdjpeg's decoder -- every sampling fdjpeg writes, including 4:4:0 and 4:1:1."""
    T = fd_table()
    for img in (data.astronaut()[:77, :101], noise(23, 41, seed=2)):
        out = purify(img, T, subsampling=sub)
        jpg = encode(img, T, subsampling=sub)
        assert np.array_equal(out, pil_decode(jpg))
        assert np.array_equal(out, fdjpeg.decode(jpg))


def test_two_pass_identity():
    """Two-pass: a file encoded with T, decoded with purify=T, is unchanged."""
    T = fd_table()
    img = data.coffee()[:64, :96]
    jpg = encode(img, T)
    assert np.array_equal(fdjpeg.decode(jpg, purify=T), fdjpeg.decode(jpg))


def test_cmyk_equals_decode_of_encode():
    img = noise(19, 27, c=4, seed=9)
    T = fd_table()
    out = purify(img, T)
    jpg = encode(img, T)
    with Image.open(io.BytesIO(jpg)) as im:
        assert im.mode == "CMYK"
        ref = np.asarray(im)
    assert np.array_equal(out, ref)


def test_keep_rgb():
    img = data.astronaut()[:40, :56]
    T = fd_table()
    assert np.array_equal(purify(img, T, keep_rgb=True), pil_decode(encode(img, T, keep_rgb=True)))


def test_default_table_is_package_fd_table():
    img = data.chelsea()[:48, :64]
    t = fdjpeg.tables.feature_distillation()
    assert np.array_equal(purify(img), purify(img, t))
    assert np.array_equal(purify(img, True), pillow_roundtrip(img, [t, t], "4:4:4"))


def test_batch_and_strides():
    imgs = np.stack([data.astronaut()[:64, :80], data.coffee()[:64, :80], noise(64, 80, seed=1)])
    T = fd_table()
    out = purify(imgs, T, subsampling="4:2:0")
    assert out.shape == imgs.shape
    for i in range(3):
        assert np.array_equal(out[i], purify(imgs[i], T, subsampling="4:2:0"))
    view = imgs[:, ::-1, ::2, ::-1]  # negative and non-unit strides, BGR view
    assert np.array_equal(purify(view, T), purify(np.ascontiguousarray(view), T))
    assert purify(imgs[:0], T).shape == (0, 64, 80, 3)


def test_threads_give_serial_results():
    imgs = [noise(64, 64, seed=s) for s in range(8)]
    T = fd_table()
    serial = [purify(x, T) for x in imgs]
    with ThreadPoolExecutor(4) as ex:
        threaded = list(ex.map(lambda x: purify(x, T), imgs))
    assert all(np.array_equal(a, b) for a, b in zip(serial, threaded))


@pytest.mark.parametrize("n", [1, 2, 5, 7])
def test_batch_threads_split_in_c(n):
    """purify(batch, threads=k): C splits the N images into k contiguous shares; every k
    gives the per-image results, which equal Pillow's round trip."""
    imgs = np.stack([noise(40, 56, seed=s) for s in range(n)])
    T = fd_table()
    single = np.stack([purify(x, T, subsampling="4:2:0") for x in imgs])
    assert np.array_equal(single[0], pillow_roundtrip(imgs[0], [T, T], "4:2:0"))
    for threads in (1, 2, 3, 8, None):
        assert np.array_equal(purify(imgs, T, subsampling="4:2:0", threads=threads), single), threads
    view = imgs[::-1, ::2, ::-1]  # strided batch: image, row and column strides
    assert np.array_equal(purify(view, T, threads=3),
                          np.stack([purify(np.ascontiguousarray(x), T) for x in view]))


def test_batch_threads_argument():
    imgs = np.stack([noise(16, 16, seed=s) for s in range(3)])
    for bad in (0, -1, 257):
        with pytest.raises(ValueError, match="threads"):
            purify(imgs, threads=bad)
    for bad in (1.5, True, "2"):
        with pytest.raises(TypeError, match="threads"):
            purify(imgs, threads=bad)
    with pytest.raises(ValueError, match="threads"):  # the binding checks too
        fdjpeg._codec.purify_pixels(imgs, np.empty_like(imgs), 3, [fd_table()], [0, 0, 0],
                                    [1, 1, 1], [1, 1, 1], threads=0)


@pytest.mark.skipif(not IMAGENET.is_dir(), reason="../shared/corpus/imagenet-sample not present")
def test_imagenet_sample_crops():
    files = sorted(IMAGENET.glob("*.JPEG"))[:12]
    assert files
    T = fdjpeg.tables.feature_distillation()
    for f in files:
        with Image.open(f) as im:
            img = np.asarray(im.convert("RGB"))[:224, :224]
        assert np.array_equal(purify(img, T), pillow_roundtrip(img, [T, T], "4:4:4")), f.name


def test_errors():
    img = noise(16, 16)
    with pytest.raises(TypeError, match="uint8"):
        purify(img.astype(np.int16))
    with pytest.raises(TypeError, match="numpy"):
        purify(img.tolist())
    with pytest.raises(ValueError, match="channels"):
        purify(np.zeros((8, 8, 2), np.uint8))
    with pytest.raises(ValueError, match="shape"):
        purify(np.zeros((1, 1, 8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="empty"):
        purify(np.zeros((0, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="subsampling"):
        purify(img, subsampling="2x2")
    with pytest.raises(ValueError, match="entr"):
        purify(img, np.zeros((8, 8)))
    with pytest.raises(TypeError, match="required"):
        purify(img, None)


def test_integration_mode_names_and_aliases():
    """docs/glossary.md: the wrappers' mode says how the one-pass step is computed, "fused"
    (old "1p") or "jpeg" (old "2p", through real bytes); both equal Pillow's round trip."""
    from fdjpeg._fdops import check_mode, distill

    img = np.ascontiguousarray(data.chelsea()[:40, :48])
    t = fdjpeg.tables.feature_distillation()
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", qtables=[t.ravel().tolist()] * 2, subsampling=0)
    want = np.asarray(Image.open(buf))
    for mode in ("fused", "1p", "jpeg", "2p"):
        assert check_mode(mode) == mode
        np.testing.assert_array_equal(distill(img, t, mode), want, err_msg=mode)
    with pytest.raises(ValueError, match="'fused' \\(alias '1p'"):
        check_mode("3p")


# ---- fdjpeg.Purifier and purify's kept purifiers -------------------------------------

@pytest.mark.parametrize("shape", [(37, 45), (37, 45, 1), (37, 45, 3), (37, 45, 4), (3, 21, 35, 3)])
def test_purifier_equals_purify_and_pillow(shape):
    """Purifier(T)(x) is purify(x, T) for every input kind, and the Pillow round trip for
    RGB (the 4:4:4 tile kernel's case) at sizes that are not multiples of 8 or 16."""
    T = fd_table()
    pf = fdjpeg.Purifier(T)
    for seed in range(3):
        x = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
        got = pf(x)
        assert got.shape == x.shape and got.dtype == np.uint8
        assert np.array_equal(got, purify(x, T))
        assert np.array_equal(got, fdjpeg._encode_api._purify_checked(x, T, "4:4:4", False, 1))
        if shape == (37, 45, 3):
            assert np.array_equal(got, pillow_roundtrip(x, [T, T], "4:4:4"))


def test_purifier_tile_kernel_sizes_and_strides_equal_pillow():
    """Widths and heights around the 16x8 tiles (edge tiles padded as the encoder pads),
    a strided view (rows of a larger image) and a non-packed view (the strip path)."""
    T = fd_table()
    img = data.astronaut()
    pf = fdjpeg.Purifier(T)
    for h, w in [(1, 1), (8, 16), (9, 17), (7, 15), (16, 24), (23, 40), (64, 33)]:
        crop = img[5:5 + h, 3:3 + w]                    # strided rows, packed pixels
        ref = pillow_roundtrip(np.ascontiguousarray(crop), [T, T], "4:4:4")
        assert np.array_equal(pf(crop), ref), (h, w)
        flipped = np.ascontiguousarray(crop[:, :, ::-1])[:, :, ::-1]   # chan stride -1
        assert np.array_equal(pf(flipped), ref), (h, w)


def test_purifier_refused_tiles_equal_pillow():
    """Tiles with a block outside the 16-bit IDCT's bound (saturated noise, step 1) take the
    strip kernels: still the Pillow round trip."""
    rng = np.random.default_rng(5)
    x = np.where(rng.random((40, 72, 3)) < 0.5, 0, 255).astype(np.uint8)
    for t in (np.ones((8, 8), np.uint16), np.full((8, 8), 2, np.uint16), fd_table()):
        assert np.array_equal(fdjpeg.Purifier(t)(x), pillow_roundtrip(x, [t, t], "4:4:4"))


def test_purifier_options_and_errors():
    T = fd_table()
    img = data.astronaut()[:40, :56]
    pf = fdjpeg.Purifier(T, subsampling="4:2:0")
    assert np.array_equal(pf(img), pillow_roundtrip(img, [T, T], "4:2:0"))
    assert np.array_equal(fdjpeg.Purifier(T, keep_rgb=True)(img), purify(img, T, keep_rgb=True))
    assert "Purifier(" in repr(pf)
    with pytest.raises(TypeError):
        fdjpeg.Purifier(None)
    with pytest.raises(ValueError):
        fdjpeg.Purifier("no-such-table-word")
    with pytest.raises(ValueError):
        fdjpeg.Purifier(T, subsampling="3:1:1")
    with pytest.raises(TypeError):
        fdjpeg.Purifier(T, keep_rgb=1)
    with pytest.raises(ValueError, match="keep_rgb"):
        fdjpeg.Purifier(T, keep_rgb=True)(img[:, :, 0])
    with pytest.raises(ValueError):
        fdjpeg.Purifier([T, T, T])(img[:, :, 0])        # three tables, one component
    with pytest.raises(TypeError):
        fdjpeg.Purifier(T)(img.astype(np.float32))
    with pytest.raises(ValueError):
        fdjpeg.Purifier(T)(img[:0])
    with pytest.raises(ValueError):
        fdjpeg.Purifier(T)(img, threads=0)
    assert fdjpeg.Purifier(T)(img[None][:0]).shape == (0, 40, 56, 3)


def test_purifier_threads_and_shared_between_threads():
    """One purifier serves several Python threads at once, and its batch threads give the
    serial result."""
    T = fd_table()
    pf = fdjpeg.Purifier(T)
    crops = [noise(24 + i, 40 + 2 * i, 3, i) for i in range(8)]
    want = [purify(c, T) for c in crops]
    with ThreadPoolExecutor(4) as ex:
        for _ in range(3):
            got = list(ex.map(pf, crops))
            assert all(np.array_equal(g, w) for g, w in zip(got, want))
    batch = np.stack([noise(24, 40, 3, i) for i in range(5)])
    serial = np.stack([purify(b, T) for b in batch])
    for th in (1, 2, 3, None):
        assert np.array_equal(pf(batch, threads=th), serial)


def test_purify_kept_purifiers_follow_the_table_value(tmp_path):
    """purify keeps a purifier per table value: an array changed in place, a table file
    rewritten, and arguments of the wrong type are never answered from an old one."""
    img = data.astronaut()[:48, :48]
    T = fd_table()
    a = purify(img, T)
    T[0, 0] = 90                                   # same object, new values
    b = purify(img, T)
    assert np.array_equal(b, pillow_roundtrip(img, [T, T], "4:4:4"))
    assert not np.array_equal(a, b)
    path = tmp_path / "t.txt"
    path.write_text(" ".join(["20"] * 64))
    one = purify(img, str(path))
    path.write_text(" ".join(["60"] * 64))
    two = purify(img, str(path))
    t60 = np.full((8, 8), 60, np.uint16)
    assert np.array_equal(two, pillow_roundtrip(img, [t60, t60], "4:4:4"))
    assert not np.array_equal(one, two)
    purify(img, T, keep_rgb=True)
    with pytest.raises(TypeError):
        purify(img, T, keep_rgb=1)                 # 1 == True, still not a bool
    purify(img, 16)
    with pytest.raises(TypeError):
        purify(img, 16.0)
    with pytest.raises(ValueError):
        purify(img, "q101")
    assert np.array_equal(purify(img, "q75"), purify(img, "q75"))
    assert np.array_equal(purify(img, True), purify(img, "fd"))


def test_zero_pattern_images_equal_pillow():
    """Images whose blocks quantize to chosen zero patterns (bands at rows/columns <= a drawn
    limit, amplitudes just below and above the zero threshold 4T; the tile kernel's
    shortcuts) equal the Pillow round trip for the default FD table, the paper's, T = 1 and
    random tables, also under FDJPEG_SIMD=0 (the scalar path)."""
    from test_simd import zero_pattern_tiles
    rng = np.random.default_rng(17)
    tables = [np.asarray(fdjpeg.tables.default_fd()), fd_table(), np.ones((8, 8), np.uint16),
              rng.integers(1, 64, (8, 8)).astype(np.uint16)]
    for k, t in enumerate(tables):
        tiles = zero_pattern_tiles(t, 96, 40 + k)                     # (96, 8, 16, 3)
        img = np.ascontiguousarray(tiles.reshape(12, 8, 8, 16, 3).swapaxes(1, 2).reshape(96, 128, 3))
        ref = pillow_roundtrip(img, [t, t], "4:4:4")
        assert np.array_equal(purify(img, t), ref), k
        assert np.array_equal(fdjpeg.Purifier(t)(img[:, 5:]), pillow_roundtrip(
            np.ascontiguousarray(img[:, 5:]), [t, t], "4:4:4")), k      # tiles off the grid


@pytest.mark.parametrize("shape, dtype", [((37, 45), np.uint8), ((37, 45, 3), np.uint8),
                                          ((37, 45, 4), np.uint8), ((3, 21, 35, 3), np.uint8),
                                          ((19, 27, 3), np.uint16)])
def test_out_writes_into_the_given_array(shape, dtype):
    """purify(..., out=a) and Purifier(T)(..., out=a) write the result of the plain call into
    a and return a, on the kept-purifier path and on the fully checked path (a table file),
    again and again into the same buffer."""
    T = fd_table()
    hi = 4096 if dtype == np.uint16 else 256
    x = np.random.default_rng(3).integers(0, hi, shape).astype(dtype)
    want = purify(x, T)
    buf = np.full(shape, 7, dtype)
    for call in (lambda o: purify(x, T, out=o), lambda o: fdjpeg.Purifier(T)(x, out=o),
                 lambda o: fdjpeg._encode_api._purify_checked(x, T, "4:4:4", False, 1, o),
                 lambda o: purify(x, T, out=o, threads=2)):
        buf[...] = 7
        assert call(buf) is buf
        assert np.array_equal(buf, want)
    if shape == (37, 45, 3):
        assert np.array_equal(want, pillow_roundtrip(x, [T, T], "4:4:4"))


def test_out_errors(tmp_path):
    """out must be an ndarray of the pixels' dtype (TypeError), of their shape, C-contiguous,
    writeable and not sharing memory with them (ValueError) -- on both paths."""
    T = fd_table()
    x = data.astronaut()[:40, :48]
    path = tmp_path / "t.txt"
    path.write_text(" ".join(["30"] * 64))
    ro = np.empty_like(x)
    ro.flags.writeable = False
    big = np.empty((40, 96, 3), np.uint8)
    for table in (T, str(path)):
        for bad, exc in [([0] * 10, TypeError), (np.empty(x.shape, np.uint16), TypeError),
                         (np.empty((40, 48), np.uint8), ValueError),
                         (np.empty((40, 47, 3), np.uint8), ValueError),
                         (big[:, ::2], ValueError), (ro, ValueError), (x, ValueError)]:
            with pytest.raises(exc):
                purify(x, table, out=bad)
            with pytest.raises(exc):
                fdjpeg.Purifier(table)(x, out=bad)
        overlap = np.zeros((41, 48, 3), np.uint8)     # out one row below the input, same buffer
        with pytest.raises(ValueError, match="share memory"):
            purify(overlap[:40], table, out=overlap[1:])


def test_kept_purifier_key_byte_order_and_dtype():
    """purify's kept purifiers are keyed by the table's type number, byte order, shape and
    bytes: a byte-swapped table, a signed one and a wider one all give the Pillow round trip
    of their values."""
    img = data.astronaut()[:48, :64]
    T = fd_table()
    want = pillow_roundtrip(img, [T, T], "4:4:4")
    for t in (T, T.astype(">u2"), T.astype(np.int16), T.astype(np.int64), T.astype("<i4")):
        assert np.array_equal(purify(img, t), want), t.dtype
    sw = T.astype(">u2").view(np.uint16)  # the same bytes read natively: another table
    assert np.array_equal(purify(img, sw), fdjpeg._encode_api._purify_checked(
        img, sw, "4:4:4", False, 1))
