"""fdjpeg.art.FeatureDistillation: ART's Preprocessor API, rounding, layouts, and an ART
PyTorchClassifier running FGSM through it (BPDA gradient)."""
import io

import numpy as np
import pytest
from PIL import Image

import fdjpeg

pytest.importorskip("art")
torch = pytest.importorskip("torch")
skdata = pytest.importorskip("skimage.data")

from art.attacks.evasion import FastGradientMethod  # noqa: E402
from art.defences.preprocessor import JpegCompression, Preprocessor  # noqa: E402
from art.estimators.classification import PyTorchClassifier  # noqa: E402

from fdjpeg.art import FeatureDistillation  # noqa: E402

FD = fdjpeg.tables.feature_distillation()


def pillow_fd(arr, table=FD):
    buf = io.BytesIO()
    t = np.asarray(table).ravel().tolist()
    Image.fromarray(arr).save(buf, "JPEG", qtables=[t, t], subsampling=0)
    return np.asarray(Image.open(buf))


def batch_uint8(n=3, h=40, w=48):
    base = skdata.astronaut()
    return np.stack([np.ascontiguousarray(base[30 * i:30 * i + h, 40 * i:40 * i + w]) for i in range(n)])


def test_is_an_art_preprocessor():
    fd = FeatureDistillation(clip_values=(0.0, 1.0))
    assert isinstance(fd, Preprocessor)
    assert fd.apply_fit and fd.apply_predict and fd.is_fitted
    assert set(JpegCompression.params) - {"quality"} <= set(fd.params)
    fd.set_params(mode="2p")
    assert fd.mode == "2p"
    fd.set_params(table=None)
    np.testing.assert_array_equal(np.asarray(fd.table), FD)
    with pytest.raises(ValueError, match="table"):
        fd.set_params(table=[[0] * 64])
    with pytest.raises(ValueError):
        fd.set_params(mode="9p")
    for bad in ({"clip_values": (0.0, 2.0)}, {"clip_values": (1.0, 0.0)}, {"clip_values": (0.5, 1.0)},
                {"clip_values": (0,)}, {"channels_first": "yes"}, {"verbose": 1}, {"subsampling": "4:1:0"}):
        kw = {"clip_values": (0.0, 1.0), **bad}
        with pytest.raises(ValueError):
            FeatureDistillation(**kw)


def test_nhwc_float_rounds_and_matches_reference():
    x8 = batch_uint8()
    rng = np.random.default_rng(1)
    x = np.clip(x8 / 255.0 + rng.uniform(-0.0018, 0.0018, x8.shape), 0, 1).astype(np.float32)
    fd = FeatureDistillation(clip_values=(0.0, 1.0))
    out, y = fd(x, np.arange(3))
    assert out.dtype == np.float32 and out.shape == x.shape and list(y) == [0, 1, 2]
    rounded = np.floor(x.astype(np.float64) * 255.0 + 0.5).astype(np.uint8)
    for i in range(3):
        np.testing.assert_array_equal(np.round(out[i] * 255).astype(np.uint8), pillow_fd(rounded[i]))


def test_nchw_255_gray_channels_and_video():
    x8 = batch_uint8(2)
    fd = FeatureDistillation(clip_values=(0, 255), channels_first=True)
    out, _ = fd(np.moveaxis(x8, -1, 1).astype(np.float32))
    np.testing.assert_array_equal(np.moveaxis(out, 1, -1).astype(np.uint8), np.stack([pillow_fd(a) for a in x8]))
    # 1 or 2 channels: each channel is purified as a grey image, as JpegCompression does
    two = x8[..., :2]
    out2, _ = FeatureDistillation(clip_values=(0, 255))(two.astype(np.float32))
    for c in range(2):
        np.testing.assert_array_equal(out2[0, ..., c].astype(np.uint8), pillow_fd(np.ascontiguousarray(two[0, ..., c])))
    video = np.stack([x8, x8[::-1]])  # (N, F, H, W, C)
    outv, _ = FeatureDistillation(clip_values=(0, 255))(video.astype(np.float32))
    np.testing.assert_array_equal(outv[1, 0].astype(np.uint8), pillow_fd(x8[1]))
    with pytest.raises(ValueError):
        fd(np.zeros((3, 8, 8), np.float32))
    with pytest.raises(ValueError, match="Negative"):
        fd(-np.ones((1, 3, 8, 8), np.float32))


def test_one_rule_with_torch():
    """Finding 2: ART and torch read dtypes and ranges by one rule (fdjpeg._pixelrule): the same
    pixels for the same data, the same errors for data off the scale."""
    from fdjpeg.torch import FeatureDistillation as TorchFD

    x8 = batch_uint8(2)
    rng = np.random.default_rng(5)
    x = np.clip(x8 / 255.0 + rng.uniform(-0.0019, 0.0019, x8.shape), 0, 1).astype(np.float32)
    art_out, _ = FeatureDistillation(clip_values=(0.0, 1.0))(x)
    torch_out = TorchFD()(torch.from_numpy(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
    np.testing.assert_array_equal(art_out, torch_out)
    # clip_values (0, 255): uint8 and float data on the 0..255 scale, the same pixels
    out255, _ = FeatureDistillation(clip_values=(0, 255))(x8)
    np.testing.assert_array_equal(out255, TorchFD()(torch.from_numpy(x8).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy())
    assert out255.dtype == np.float32
    # off the scale: ValueError from both, never clipped
    fd01 = FeatureDistillation(clip_values=(0.0, 1.0))
    for bad in (x8.astype(np.float32), x - 0.5, np.full_like(x, np.nan)):
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            fd01(bad)
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            TorchFD()(torch.from_numpy(bad).permute(0, 3, 1, 2))
    with pytest.raises(ValueError, match=r"\[0, 255\]"):
        FeatureDistillation(clip_values=(0, 255))(x8.astype(np.float32) * 1.5)
    with pytest.raises(TypeError, match="int64"):
        fd01(x8.astype(np.int64))


def _classifier(defences):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 5, stride=2), torch.nn.ReLU(), torch.nn.Flatten(),
                                torch.nn.Linear(6 * 18 * 22, 4))
    return PyTorchClassifier(model=model, loss=torch.nn.CrossEntropyLoss(), input_shape=(3, 40, 48),
                             nb_classes=4, clip_values=(0.0, 1.0), preprocessing_defences=defences,
                             channels_first=True), model


def test_fgsm_through_the_preprocessor():
    x = (np.moveaxis(batch_uint8(4), -1, 1) / 255.0).astype(np.float32)
    fd = FeatureDistillation(clip_values=(0.0, 1.0), channels_first=True)
    defended, model = _classifier([fd])
    plain, _ = _classifier([])
    xp, _ = fd(x)
    # predictions go through the defence
    with torch.no_grad():
        direct = model(torch.from_numpy(xp)).numpy()
    np.testing.assert_allclose(defended.predict(x), direct, rtol=1e-5, atol=1e-6)
    # BPDA: the defended input gradient is the undefended gradient at the purified input
    y = np.eye(4, dtype=np.float32)[np.argmax(direct, axis=1)]
    np.testing.assert_allclose(defended.loss_gradient(x, y), plain.loss_gradient(xp, y), rtol=1e-5, atol=1e-7)
    eps = 4 / 255
    adv = FastGradientMethod(defended, eps=eps).generate(x, y=y)
    expect = np.clip(x + eps * np.sign(plain.loss_gradient(xp, y)), 0.0, 1.0)
    np.testing.assert_allclose(adv, expect, atol=1e-6)
    assert np.abs(adv - x).max() <= eps + 1e-6 and not np.array_equal(adv, x)
