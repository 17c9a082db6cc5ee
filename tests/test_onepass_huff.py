"""One-pass FD requantized inside the Huffman decoder (csrc/dec_huff_mcu.h, DEC_HUFF_MCU_RQ).

A single-scan sequential file decoded with ``purify=T`` stores T * round(c * q / T) where the
Huffman decoder writes c (a lookup table for -128 <= c < 128 and DC within +-512, arithmetic
beyond), and an MCU holding a value outside int16 is decoded again raw and requantized by the
row stage.  Multi-scan files never take that path, so the same coefficients written progressive
(jpegtran, lossless) give the reference computed by the row stage's requantizer; where no value
leaves int16 the jpeglib + Pillow reference of test_onepass.py is checked too.  Coefficients are
written with jpeglib: values on both sides of every table boundary, large ones, restart
intervals (slow refills at markers before a redone MCU), the scalar kernels (FDJPEG_SIMD=0).
"""
import subprocess

import numpy as np
import pytest
from PIL import Image

import fdjpeg
from conftest import need_tool
from test_onepass import reference_purified
from test_simd import scalar_kernels

jpeglib = pytest.importorskip("jpeglib")

EDGES = np.array([-1000, -513, -512, -511, -200, -129, -128, -127, -65, -64, -63, -33, -32, -31,
                  -2, -1, 1, 2, 31, 32, 33, 63, 64, 65, 127, 128, 129, 200, 511, 512, 513, 1000])


def crafted(tmp_path, rng, sub=0, quality=50, dc_amp=600, cap=1000, density=0.3, name="c.jpg"):
    """A file whose coefficients are set directly: sparse AC values with many edge values,
    DC within +-dc_amp; the file's own quantization tables (Pillow, `quality`)."""
    img = rng.integers(0, 256, (48, 80, 3), dtype=np.uint8)
    base = tmp_path / ("base_" + name)
    Image.fromarray(img).save(base, "JPEG", quality=quality, subsampling=sub)
    j = jpeglib.read_dct(str(base))
    for comp in ("Y", "Cb", "Cr"):
        a = getattr(j, comp)
        shape = a.shape
        vals = np.where(rng.random(shape) < 0.5, rng.choice(EDGES[np.abs(EDGES) <= cap], shape),
                        rng.integers(-4, 5, shape))
        mask = rng.random(shape) < density
        a = np.where(mask, vals, 0).astype(np.int16)
        a[..., 0, 0] = rng.integers(-dc_amp, dc_amp + 1, shape[:2])
        setattr(j, comp, a)
    out = tmp_path / name
    j.write_dct(str(out))
    return out


def progressive(path, tmp_path):
    """The same coefficients as a progressive file (multi-scan: the row stage requantizes)."""
    out = tmp_path / ("p_" + path.name)
    subprocess.run([need_tool("jpegtran"), "-copy", "none", "-progressive", "-outfile", str(out),
                    str(path)], check=True)
    return out.read_bytes()


def with_restarts(path, tmp_path, n=1):
    out = tmp_path / ("r_" + path.name)
    subprocess.run([need_tool("jpegtran"), "-copy", "none", "-restart", f"{n}B", "-outfile",
                    str(out), str(path)], check=True)
    return out.read_bytes()


def requantized(path, tables):
    """T * round(c * q / T) of every coefficient, in int64 (the values the decoder computes)."""
    j = jpeglib.read_dct(str(path))
    out = []
    for k, comp in enumerate(("Y", "Cb", "Cr")):
        c = getattr(j, comp).astype(np.int64)
        q = j.qt[j.quant_tbl_no[k]].astype(np.int64)
        t = np.asarray(tables[k], np.int64)
        d = c * q
        out.append(np.sign(d) * ((np.abs(d) + (t >> 1)) // t) * t)
    return out


def check_against_progressive(data, prog, table):
    got = fdjpeg.decode(data, purify=table)
    np.testing.assert_array_equal(got, fdjpeg.decode(prog, purify=table))
    with scalar_kernels():
        np.testing.assert_array_equal(fdjpeg.decode(data, purify=table), got)
        np.testing.assert_array_equal(fdjpeg.decode(prog, purify=table), got)
    return got


@pytest.mark.parametrize("sub", [0, 2])
def test_lookup_edges_equal_row_stage(tmp_path, sub):
    rng = np.random.default_rng(16 + sub)
    path = crafted(tmp_path, rng, sub=sub, quality=90)
    tables = [np.asarray(fdjpeg.tables.feature_distillation(), np.uint16),
              rng.integers(1, 5, (8, 8)).astype(np.uint16),      # T = 1, 2 (and 3, 4)
              rng.integers(1, 300, (8, 8)).astype(np.uint16)]
    assert all(np.abs(r).max() <= 32767 for r in requantized(path, tables))
    data, prog = path.read_bytes(), progressive(path, tmp_path)
    got = check_against_progressive(data, prog, tables)
    # restart intervals: the scan data is cut by markers (the decoder's slow refills)
    np.testing.assert_array_equal(fdjpeg.decode(with_restarts(path, tmp_path), purify=tables), got)


@pytest.mark.parametrize("sub", [0, 1])
def test_lookup_edges_equal_jpeglib_reference(tmp_path, sub):
    """Independent reference (jpeglib + Pillow, test_onepass.py) on blocks with the edge
    values that stay within libjpeg-turbo's 16-bit IDCT (whose pixels Pillow shows): all
    q = 1 (quality 100), few AC values up to 65, DC within +-520."""
    rng = np.random.default_rng(26 + sub)
    path = crafted(tmp_path, rng, sub=sub, quality=100, cap=65, density=0.03, dc_amp=520)
    tables = [np.asarray(fdjpeg.tables.feature_distillation(), np.uint16),
              rng.integers(5, 300, (8, 8)).astype(np.uint16),
              rng.integers(5, 40, (8, 8)).astype(np.uint16)]
    np.testing.assert_array_equal(fdjpeg.decode(path.read_bytes(), purify=tables),
                                  reference_purified(path, tables, tmp_path))


@pytest.mark.parametrize("restart", [False, True])
def test_values_outside_int16_redo_the_mcu_raw(tmp_path, restart):
    """Large T on some AC positions: |R| > 32767 for some coefficients (the MCU is decoded
    again raw and requantized by the row stage), while the lookup tables stay valid."""
    rng = np.random.default_rng(7)
    path = crafted(tmp_path, rng, quality=50)
    t = rng.integers(1, 120, (8, 8)).astype(np.uint16)
    t[rng.random((8, 8)) < 0.1] = 50000
    t[0, 0] = 37
    tables = [t, t, t]
    r = requantized(path, tables)
    outside = sum(int((np.abs(x) > 32767).any(axis=(2, 3)).sum()) for x in r)
    blocks = sum(x.shape[0] * x.shape[1] for x in r)
    assert 0 < outside < blocks  # some MCUs redone, not all
    data = with_restarts(path, tmp_path) if restart else path.read_bytes()
    check_against_progressive(data, progressive(path, tmp_path), tables)


def test_table_entries_outside_int16_keep_the_row_stage(tmp_path):
    """A DC lookup entry outside int16 (|c| <= 512 with T0 = 60000): the decoder keeps the
    row stage's requantizer for the whole decode; the result is the same."""
    rng = np.random.default_rng(8)
    path = crafted(tmp_path, rng, quality=5, dc_amp=520)
    t = rng.integers(1, 60, (8, 8)).astype(np.uint16)
    t[0, 0] = 60000
    tables = [t, t, t]
    assert max(int(np.abs(x[..., 0, 0]).max()) for x in requantized(path, tables)) > 32767
    check_against_progressive(path.read_bytes(), progressive(path, tmp_path), tables)


def test_truncated_and_region_decodes_match(tmp_path):
    """Data cut inside the scan (zeros fed past the end) and regions (MCUs before the window
    only skipped): the rows before the cut equal the full decode, a region equals its window,
    and the scalar kernels agree."""
    rng = np.random.default_rng(9)
    path = crafted(tmp_path, rng)
    tables = [np.asarray(fdjpeg.tables.feature_distillation(), np.uint16)] * 3
    data = path.read_bytes()
    full = fdjpeg.decode(data, purify=tables)
    np.testing.assert_array_equal(fdjpeg.decode(data, purify=tables, region=(24, 16, 40, 24)),
                                  full[16:40, 24:64])
    cut = data[: len(data) * 2 // 3]
    got = fdjpeg.decode(cut, purify=tables, allow_truncated=True)
    np.testing.assert_array_equal(got[:8], full[:8])
    assert not np.array_equal(got, full)
    with scalar_kernels():
        np.testing.assert_array_equal(fdjpeg.decode(cut, purify=tables, allow_truncated=True), got)
