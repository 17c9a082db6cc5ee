"""Decode 20 ImageNet files per round: fdjpeg vs Pillow vs simplejpeg; one-pass purify."""
import numpy as np
import pytest

import fdjpeg
from conftest import pil_decode

simplejpeg = pytest.importorskip("simplejpeg")


def _run(fn, items):
    for x in items:
        fn(x)


@pytest.mark.benchmark(group="decode ImageNet x20")
def test_decode_fdjpeg(benchmark, jpeg_files):
    benchmark(_run, fdjpeg.decode, jpeg_files)


@pytest.mark.benchmark(group="decode ImageNet x20")
def test_decode_pillow(benchmark, jpeg_files):
    benchmark(_run, pil_decode, jpeg_files)


@pytest.mark.benchmark(group="decode ImageNet x20")
def test_decode_simplejpeg(benchmark, jpeg_files):
    def sj(d):
        gray = simplejpeg.decode_jpeg_header(d)[2] == "Gray"
        return simplejpeg.decode_jpeg(d, colorspace="GRAY" if gray else "RGB",
                                      fastdct=False, fastupsample=False)
    benchmark(_run, sj, jpeg_files)


@pytest.mark.benchmark(group="decode ImageNet x20")
def test_decode_fdjpeg_purify(benchmark, jpeg_files):
    table = fdjpeg.tables.feature_distillation()
    benchmark(_run, lambda d: fdjpeg.decode(d, purify=table), jpeg_files)


@pytest.mark.benchmark(group="decode ImageNet x20")
def test_decode_fdjpeg_into_out(benchmark, jpeg_files):
    """Decoding into preallocated arrays (out=): no allocation per image."""
    outs = [np.empty_like(fdjpeg.decode(d)) for d in jpeg_files]
    benchmark(lambda: [fdjpeg.decode(d, out=o) for d, o in zip(jpeg_files, outs)])
