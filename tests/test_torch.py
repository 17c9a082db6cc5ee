"""fdjpeg.torch: the transform (PIL / ndarray / tensor), pickling, a real DataLoader with workers,
and the BPDA wrapper.  The reference is Pillow's own JPEG round trip with the FD table."""
import io
import pickle

import numpy as np
import pytest
from PIL import Image

import fdjpeg

torch = pytest.importorskip("torch")
skdata = pytest.importorskip("skimage.data")

from fdjpeg.torch import FeatureDistillation, FeatureDistillationBPDA, bpda_feature_distillation  # noqa: E402

FD = fdjpeg.tables.feature_distillation()


def pillow_fd(arr, table=FD):
    """Independent reference: Pillow encodes with T in every slot at 4:4:4, then decodes."""
    buf = io.BytesIO()
    t = np.asarray(table).ravel().tolist()
    Image.fromarray(arr).save(buf, "JPEG", qtables=[t, t], subsampling=0)
    return np.asarray(Image.open(buf))


def images():
    return [np.ascontiguousarray(skdata.astronaut()[:100, :120]),
            np.ascontiguousarray(skdata.chelsea()[50:117, 80:171]),
            np.ascontiguousarray(skdata.camera()[:64, :72])]


def test_ndarray_and_pil():
    t = FeatureDistillation()
    for arr in images():
        ref = pillow_fd(arr)
        out = t(arr)
        assert isinstance(out, np.ndarray) and out.dtype == np.uint8 and out.shape == arr.shape
        np.testing.assert_array_equal(out, ref)
        pil = t(Image.fromarray(arr))
        assert isinstance(pil, Image.Image) and pil.mode == ("L" if arr.ndim == 2 else "RGB")
        np.testing.assert_array_equal(np.asarray(pil), ref)


def test_modes_agree():
    arr = images()[0]
    np.testing.assert_array_equal(FeatureDistillation(mode="2p")(arr), FeatureDistillation(mode="1p")(arr))
    custom = np.full((8, 8), 12, np.uint16)
    np.testing.assert_array_equal(FeatureDistillation(custom, mode="2p")(arr), pillow_fd(arr, custom))
    with pytest.raises(ValueError):
        FeatureDistillation(mode="3p")


def test_tensor_float_rounds_to_uint8():
    arr = images()[1]
    rng = np.random.default_rng(0)
    # floats that are not on the 1/255 grid: floor(255 x + 0.5) decides the pixel value
    x = np.clip(arr / 255.0 + rng.uniform(-0.0019, 0.0019, arr.shape), 0, 1)
    x8 = np.floor(255.0 * x + 0.5).astype(np.uint8)
    assert not np.array_equal(x8, (255.0 * x).astype(np.uint8))  # truncation would differ
    tensor = torch.tensor(x, dtype=torch.float32).permute(2, 0, 1)
    out = FeatureDistillation()(tensor)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32 and out.shape == tensor.shape
    ref = pillow_fd(np.floor(255.0 * tensor.permute(1, 2, 0).numpy().astype(np.float64) + 0.5).astype(np.uint8))
    np.testing.assert_array_equal(np.round(out.permute(1, 2, 0).numpy() * 255).astype(np.uint8), ref)
    # uint8 tensor in, uint8 tensor out; batches; one-channel tensors
    u8 = torch.from_numpy(x8).permute(2, 0, 1).contiguous()
    out8 = FeatureDistillation()(u8)
    assert out8.dtype == torch.uint8
    np.testing.assert_array_equal(out8.permute(1, 2, 0).numpy(), pillow_fd(x8))
    batch = FeatureDistillation()(torch.stack([u8, u8.flip(2)]))
    assert batch.shape == (2,) + tuple(u8.shape) and batch.dtype == torch.uint8
    np.testing.assert_array_equal(batch[1].numpy(), FeatureDistillation()(u8.flip(2)).numpy())
    fbatch = FeatureDistillation(mode="2p")(torch.stack([tensor, tensor.flip(1)]).double())
    assert fbatch.dtype == torch.float64
    np.testing.assert_array_equal(np.round(fbatch[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8), ref)
    gray = torch.from_numpy(images()[2]).unsqueeze(0)
    np.testing.assert_array_equal(FeatureDistillation()(gray)[0].numpy(), pillow_fd(images()[2]))


def test_bad_inputs():
    t = FeatureDistillation()
    with pytest.raises(TypeError):
        t([1, 2, 3])
    with pytest.raises(TypeError, match="int16"):
        t(np.zeros((8, 8, 3), np.int16))
    with pytest.raises(TypeError, match="int64"):
        t(torch.zeros(3, 8, 8, dtype=torch.int64))
    with pytest.raises(ValueError):
        t(torch.zeros(2, 8, 8))
    with pytest.raises(ValueError):
        t(Image.new("RGBA", (8, 8)))


def test_float_out_of_range_raises_instead_of_clipping():
    """Finding 2: 0..255 floats, Normalize'd tensors and NaN raise a ValueError saying what the
    transform expects (they used to be clipped: a white image, silently)."""
    t = FeatureDistillation()
    arr = images()[0]
    x255 = torch.from_numpy(arr).permute(2, 0, 1).float()           # t(img.float()): 0..255
    with pytest.raises(ValueError, match=r"\[0, 1\].*divide by 255"):
        t(x255)
    normalized = (x255 / 255 - 0.45) / 0.225
    with pytest.raises(ValueError, match=r"\[0, 1\].*Normalize"):
        t(normalized)
    with pytest.raises(ValueError, match="NaN"):
        t(torch.full((3, 8, 8), float("nan")))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        t(x255.numpy().transpose(1, 2, 0).copy())                     # float arrays: the same rule
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        bpda_feature_distillation(x255.unsqueeze(0))
    # half a pixel step either side still rounds to a pixel (float noise is not an error)
    edge = torch.tensor([-0.49 / 255, 1 + 0.49 / 255]).repeat(3, 8, 4)
    assert set(torch.round(t(edge) * 255).unique().tolist()) <= set(range(256))
    for bad in (-0.51 / 255, 1 + 0.51 / 255):
        with pytest.raises(ValueError):
            t(torch.full((3, 8, 8), bad))
    # float arrays on [0, 1] are purified like the float tensor, in their dtype
    x = (arr / 255.0).astype(np.float32)
    out = t(x)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(np.round(out * 255).astype(np.uint8), pillow_fd(arr))


def test_requires_grad_keeps_a_bpda_gradient():
    """Finding 2: a tensor that requires grad is not detached: the transform is BPDA (exact
    forward, identity backward), the same as FeatureDistillationBPDA."""
    arr = images()[1]
    x = (torch.from_numpy(arr).permute(2, 0, 1).float() / 255.0).requires_grad_(True)
    y = FeatureDistillation()(x)
    assert y.requires_grad and y.grad_fn is not None
    np.testing.assert_array_equal(np.round(y.detach().permute(1, 2, 0).numpy() * 255).astype(np.uint8), pillow_fd(arr))
    w = torch.randn_like(x)
    (y * w).sum().backward()
    torch.testing.assert_close(x.grad, w, rtol=0, atol=0)
    torch.testing.assert_close(y, FeatureDistillationBPDA()(x.unsqueeze(0))[0], rtol=0, atol=0)
    with torch.no_grad():  # no graph wanted: a plain tensor
        assert not FeatureDistillation()(x).requires_grad


def test_picklable():
    t = FeatureDistillation(np.full((8, 8), 17, np.uint16), mode="2p")
    u = pickle.loads(pickle.dumps(t))
    arr = images()[0]
    np.testing.assert_array_equal(u(arr), t(arr))
    assert u.mode == "2p"


class _Photos(torch.utils.data.Dataset):
    def __init__(self, transform):
        self.transform = transform
        base = images()[0]
        self.items = [np.ascontiguousarray(np.roll(base, 7 * i, axis=1)) for i in range(6)]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        x = torch.from_numpy(self.items[i]).permute(2, 0, 1).float() / 255.0
        return self.transform(x), i


def test_dataloader_with_workers():
    ds = _Photos(FeatureDistillation())
    loader = torch.utils.data.DataLoader(ds, batch_size=2, num_workers=2, shuffle=False)
    got = {}
    for xb, ib in loader:
        for x, i in zip(xb, ib):
            got[int(i)] = x
    assert sorted(got) == list(range(len(ds)))
    for i, x in got.items():
        ref = pillow_fd(ds.items[i])
        np.testing.assert_array_equal(np.round(x.permute(1, 2, 0).numpy() * 255).astype(np.uint8), ref)


def test_bpda_forward_exact_backward_identity():
    arr = images()[0]
    x = (torch.from_numpy(arr).permute(2, 0, 1).float() / 255.0).unsqueeze(0).repeat(2, 1, 1, 1)
    x.requires_grad_(True)
    y = bpda_feature_distillation(x)
    np.testing.assert_array_equal(np.round(y[0].detach().permute(1, 2, 0).numpy() * 255).astype(np.uint8),
                                  pillow_fd(arr))
    w = torch.randn_like(x)
    (y * w).sum().backward()
    torch.testing.assert_close(x.grad, w, rtol=0, atol=0)


def test_bpda_module_in_a_model():
    torch.manual_seed(0)
    model = torch.nn.Sequential(FeatureDistillationBPDA(), torch.nn.Conv2d(3, 4, 3), torch.nn.Flatten(),
                                torch.nn.LazyLinear(3))
    arr = images()[1]
    x = (torch.from_numpy(arr).permute(2, 0, 1).float() / 255.0).unsqueeze(0).requires_grad_(True)
    out = model(x)
    out[0, 1].backward()
    # BPDA: the input gradient equals the gradient of the rest of the model at the purified input
    xp = model[0](x.detach()).requires_grad_(True)
    rest = torch.nn.Sequential(*list(model)[1:])
    rest(xp)[0, 1].backward()
    torch.testing.assert_close(x.grad, xp.grad)
    torch.testing.assert_close(out, rest(xp))
    with pytest.raises(TypeError):
        bpda_feature_distillation(torch.zeros(1, 3, 8, 8, dtype=torch.uint8))


# --------------------------------------------------------------------------- Image.open in workers

import multiprocessing  # noqa: E402
import pathlib  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import _workers  # noqa: E402

import fdjpeg.pillow  # noqa: E402


@pytest.mark.parametrize("method", [m for m in ("fork", "spawn", "forkserver")
                                    if m in multiprocessing.get_all_start_methods()])
def test_dataloader_workers_purify_with_worker_init(method, tmp_path):
    """Finding 1: a folder dataset that calls Image.open, after register(purify=T): with
    worker_init_fn=fdjpeg.pillow.worker_init every worker decodes purified pixels."""
    paths, purified, plain = [], [], []
    for i, arr in enumerate(images()[:2]):
        p = tmp_path / f"{i}.jpg"
        Image.fromarray(arr).save(p, quality=90)
        paths.append(str(p))
        purified.append(fdjpeg.decode(p.read_bytes(), purify=FD))
        plain.append(np.asarray(Image.open(p)))
    assert not np.array_equal(purified[0], plain[0])
    try:
        fdjpeg.pillow.register(purify=FD)
        loader = torch.utils.data.DataLoader(_workers.JpegPaths(paths), batch_size=None, num_workers=1,
                                             multiprocessing_context=method,
                                             worker_init_fn=fdjpeg.pillow.worker_init)
        got = list(loader)
        assert [int(flag) for flag, _ in got] == [1, 1]
        for (_, px), ref in zip(got, purified):
            np.testing.assert_array_equal(px.numpy(), ref)
        if method == "spawn":  # without worker_init_fn the worker is not registered, and says so
            loader = torch.utils.data.DataLoader(_workers.JpegPaths(paths), batch_size=None, num_workers=1,
                                                 multiprocessing_context=method)
            got = list(loader)
            assert [int(flag) for flag, _ in got] == [0, 0]
            np.testing.assert_array_equal(got[0][1].numpy(), plain[0])
    finally:
        fdjpeg.pillow.unregister()
