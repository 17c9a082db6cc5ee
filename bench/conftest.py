"""Shared inputs for the pytest-benchmark suites in bench/ (run by hand, never in CI):

    pytest bench/bench_decode.py bench/bench_encode.py bench/bench_purify.py --benchmark-only

Groups put fdjpeg next to Pillow (libjpeg-turbo) and simplejpeg for the same work, so
pytest-benchmark's table shows the ratio per group.  bench/compare.py prints the issue's
single ratio table instead.
"""
import io
import pathlib

import numpy as np
import pytest
from PIL import Image

import fdjpeg

CORPUS = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "imagenet-sample"


@pytest.fixture(scope="session")
def jpeg_files():
    if not CORPUS.is_dir():
        pytest.skip(f"ImageNet sample not found at {CORPUS}")
    return [p.read_bytes() for p in sorted(CORPUS.iterdir())[:20]]


@pytest.fixture(scope="session")
def rgb_images(jpeg_files):
    return [np.ascontiguousarray(fdjpeg.decode(d, mode="RGB")) for d in jpeg_files]


@pytest.fixture(scope="session")
def crops(jpeg_files):
    out = [np.ascontiguousarray(fdjpeg.decode(d, mode="RGB")[:224, :224]) for d in jpeg_files]
    return [c for c in out if c.shape == (224, 224, 3)]


def pil_decode(data):
    return np.asarray(Image.open(io.BytesIO(data)))


def pil_encode(arr, **kw):
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", **kw)
    return buf.getvalue()
