"""Encode 20 ImageNet images per round: q75 4:2:0, q90 4:4:4, FD table 4:4:4."""
import pytest

import fdjpeg
from conftest import pil_encode

simplejpeg = pytest.importorskip("simplejpeg")

SETTINGS = {
    "q75 4:2:0": (dict(quality=75, subsampling=2), dict(quality=75, colorsubsampling="420"),
                  dict(quality=75, subsampling="4:2:0")),
    "q90 4:4:4": (dict(quality=90, subsampling=0), dict(quality=90, colorsubsampling="444"),
                  dict(quality=90, subsampling="4:4:4")),
}


def _run(fn, items):
    for x in items:
        fn(x)


@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize("encoder", ["fdjpeg", "pillow", "simplejpeg"])
def test_encode(benchmark, rgb_images, setting, encoder):
    pil_kw, sj_kw, fd_kw = SETTINGS[setting]
    benchmark.group = f"encode {setting} x20"
    fn = {"fdjpeg": lambda a: fdjpeg.encode(a, **fd_kw),
          "pillow": lambda a: pil_encode(a, **pil_kw),
          "simplejpeg": lambda a: simplejpeg.encode_jpeg(a, **sj_kw)}[encoder]
    benchmark(_run, fn, rgb_images)


@pytest.mark.parametrize("encoder", ["fdjpeg", "pillow"])
def test_encode_fd_table(benchmark, rgb_images, encoder):
    table = fdjpeg.tables.feature_distillation()
    t = [int(v) for v in table.reshape(64)]
    benchmark.group = "encode FD table 4:4:4 x20"
    fn = (lambda a: fdjpeg.encode(a, table)) if encoder == "fdjpeg" else \
        (lambda a: pil_encode(a, qtables=[t, t], subsampling=0))
    benchmark(_run, fn, rgb_images)
