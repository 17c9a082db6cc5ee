"""fdjpeg.torch.FeatureDistillation on batches: a batch that the float reader splits into
chunks gives, image for image, Pillow's JPEG round trip (the purification's definition), the
same as per-sample calls, and an out-of-range value in a later chunk is reported with the
whole batch's range, as one unchunked read reported it."""
import io

import numpy as np
import pytest
from PIL import Image

import fdjpeg

torch = pytest.importorskip("torch")

from fdjpeg import torch as fdtorch  # noqa: E402
from fdjpeg.torch import FeatureDistillation  # noqa: E402

T = fdjpeg.tables.paper_released()


def pillow_round_trip(arr):
    t = [int(v) for v in T.reshape(64)]
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", qtables=[t, t], subsampling=0)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())))


def batch_u8(n, h, w, seed=0):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:h, :w]
    base = np.stack([x * 2 + y, y * 3, (x * y) % 256], -1)
    return np.stack([np.clip(base + rng.integers(-30, 31, base.shape) + 9 * i, 0, 255).astype(np.uint8)
                     for i in range(n)])


def test_float_batch_over_several_chunks_matches_pillow_and_per_sample(monkeypatch):
    monkeypatch.setattr(fdtorch, "_CHUNK_PIXELS", 3 * 72 * 96 + 5)  # 3 images a chunk, 4 chunks
    n, h, w = 11, 72, 96
    step = max(1, fdtorch._CHUNK_PIXELS // (h * w))
    assert step < n, "the batch must span more than one chunk"
    pixels = batch_u8(n, h, w)
    x = torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 255
    fd = FeatureDistillation(T)
    out = fd(x)
    assert out.shape == x.shape and out.dtype == torch.float32
    got = torch.round(out * 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    for i in range(n):
        np.testing.assert_array_equal(got[i], pillow_round_trip(pixels[i]), err_msg=f"image {i}")
        assert torch.equal(out[i], fd(x[i]))


def test_uint8_batch_and_strided_views():
    pixels = batch_u8(5, 40, 56, 1)
    fd = FeatureDistillation(T)
    contiguous = torch.from_numpy(pixels).permute(0, 3, 1, 2).contiguous()
    view = torch.from_numpy(pixels).permute(0, 3, 1, 2)          # NHWC memory, NCHW shape
    a, b = fd(contiguous), fd(view)
    assert torch.equal(a, b) and a.dtype == torch.uint8
    for i in range(5):
        np.testing.assert_array_equal(a[i].permute(1, 2, 0).numpy(), pillow_round_trip(pixels[i]))


def test_out_of_range_in_a_later_chunk_names_the_whole_batch_range(monkeypatch):
    monkeypatch.setattr(fdtorch, "_CHUNK_PIXELS", 4 * 64 * 64)
    n, h, w = 12, 64, 64
    assert fdtorch._CHUNK_PIXELS // (h * w) < n
    x = torch.full((n, 3, h, w), 0.5)
    x[0, 0, 0, 0] = 0.0                       # the batch minimum, in the first chunk
    x[-1, 1, 2, 3] = 1.5                      # the offending value, in the last chunk
    with pytest.raises(ValueError, match=r"values from 0 to 1\.5\b"):
        FeatureDistillation(T)(x)
