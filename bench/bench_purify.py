"""Purify 224x224 RGB crops: fdjpeg.purify vs a Pillow JPEG round trip with the same table,
a vectorised numpy FD and (one crop) the paper's per-block loop."""
import pathlib
import sys

import pytest

import fdjpeg

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from compare import numpy_fd, paper_loop, pil_roundtrip  # noqa: E402

TABLE = fdjpeg.tables.paper_released()


def _run(fn, items):
    for x in items:
        fn(x)


@pytest.mark.parametrize("method", ["fdjpeg", "pillow-roundtrip", "numpy"])
def test_purify_224(benchmark, crops, method):
    benchmark.group = "purify 224x224 crops"
    fn = {"fdjpeg": lambda a: fdjpeg.purify(a, TABLE),
          "pillow-roundtrip": lambda a: pil_roundtrip(a, TABLE),
          "numpy": lambda a: numpy_fd(a, TABLE)}[method]
    benchmark(_run, fn, crops)


def test_purify_batch_fdjpeg(benchmark, crops):
    """One call over an (N, 224, 224, 3) batch."""
    import numpy as np

    batch = np.stack(crops)
    benchmark.group = "purify 224x224 crops"
    benchmark(fdjpeg.purify, batch, TABLE)


def test_purify_paper_loop_one_crop(benchmark, crops):
    benchmark.group = "purify one crop (paper loop)"
    benchmark.pedantic(paper_loop, args=(crops[0], TABLE), rounds=2, iterations=1)
