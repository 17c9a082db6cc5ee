"""Evaluation data: the ImageNet class list, image loading and the protocol's preprocessing.

Preprocessing follows design-notes §4: Pillow bilinear resize of the short side to
crop * 256 / 224, centre crop, uint8 RGB.  Every float image that re-enters the pipeline
becomes uint8 through :func:`to_uint8` (floor(255 x + 0.5) after clipping to [0, 1]; the one
implementation in ``fdjpeg._fdops``, shared with the torch/ART integrations), attack outputs
included.
"""
from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image

from fdjpeg._fdops import to_uint8  # noqa: F401  (the package's one float -> uint8 rule)

_SYNSET_RE = re.compile(r"(n\d{8})")
IMAGE_EXTENSIONS = (".jpeg", ".jpg", ".png", ".bmp", ".ppm", ".tif", ".tiff", ".webp")


def load_synsets():
    """Return (synsets, labels): the standard 1,000 ImageNet classes in index order."""
    text = resources.files("fdjpeg.eval").joinpath("imagenet_synsets.txt").read_text("utf-8")
    synsets, labels = [], []
    for line in text.splitlines():
        if not line.strip():
            continue
        wnid, _, label = line.partition(" ")
        synsets.append(wnid)
        labels.append(label)
    if len(synsets) != 1000 or len(set(synsets)) != 1000:
        raise RuntimeError("fdjpeg/eval/imagenet_synsets.txt must list 1000 distinct synsets")
    return synsets, labels


def synset_index(name, _cache={}):
    """Class index of the synset in a file name such as ``n01440764_tench.JPEG``."""
    if "map" not in _cache:
        _cache["map"] = {s: i for i, s in enumerate(load_synsets()[0])}
    m = _SYNSET_RE.search(os.path.basename(str(name)))
    if m is None:
        raise ValueError(f"no ImageNet synset (nXXXXXXXX) in file name {name!r}")
    try:
        return _cache["map"][m.group(1)]
    except KeyError:
        raise ValueError(f"{m.group(1)!r} is not one of the 1,000 ImageNet classes") from None


def resize_crop(img, crop=224):
    """Pillow bilinear resize of the short side to crop*256/224, then a centre crop."""
    if not isinstance(img, Image.Image):
        arr = np.asarray(img)
        if arr.dtype != np.uint8:
            raise TypeError(f"expected a uint8 array or a PIL image, got {arr.dtype}")
        if arr.ndim == 2:
            arr = np.stack([arr] * 3, axis=-1)
        img = Image.fromarray(np.ascontiguousarray(arr[..., :3]))
    img = img.convert("RGB")
    short = int(round(crop * 256 / 224))
    w, h = img.size
    if w <= h:
        nw, nh = short, max(short, int(round(h * short / w)))
    else:
        nw, nh = max(short, int(round(w * short / h))), short
    img = img.resize((nw, nh), Image.BILINEAR)
    left = int(round((nw - crop) / 2.0))
    top = int(round((nh - crop) / 2.0))
    img = img.crop((left, top, left + crop, top + crop))
    return np.asarray(img, dtype=np.uint8)


@dataclass
class Dataset:
    """Preprocessed uint8 NHWC images with labels (-1 = label from the clean prediction)."""
    names: list
    images: np.ndarray
    labels: np.ndarray
    source: str
    extra: dict = field(default_factory=dict)


def _list_dir(path):
    files = sorted(p for p in Path(path).iterdir()
                   if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    return [(str(p), synset_index(p.name)) for p in files]


def _list_csv(path):
    out = []
    base = Path(path).parent
    with open(path, newline="") as f:
        for row in csv.reader(f):
            if not row or row[0].startswith("#"):
                continue
            if len(row) < 2:
                raise ValueError(f"{path}: each row must be path,label")
            p, lab = row[0].strip(), row[1].strip()
            if p.lower() == "path":
                continue
            lab = int(lab) if lab.lstrip("-").isdigit() else synset_index(lab)
            if not 0 <= lab < 1000:
                raise ValueError(f"{path}: label {lab} out of range 0..999")
            out.append((str(p if os.path.isabs(p) else base / p), lab))
    return out


def list_images(path):
    """[(file, class index)] from an ImageNet-style folder or a CSV of path,label."""
    p = Path(path)
    if p.is_dir():
        items = _list_dir(p)
    elif p.is_file() and p.suffix.lower() == ".csv":
        items = _list_csv(p)
    else:
        raise ValueError(f"--images must be a folder or a .csv file: {path}")
    if not items:
        raise ValueError(f"no images found in {path}")
    return items


def load_images(items, crop=224):
    names = [os.path.basename(f) for f, _ in items]
    images = np.stack([resize_crop(Image.open(f), crop) for f, _ in items])
    labels = np.array([lab for _, lab in items], dtype=np.int64)
    return names, images, labels


# The natural photographs scikit-image ships without a download (colour first, then grey
# photographs replicated to RGB).  Scans, microscopy-only data and synthetic images are left out.
SKIMAGE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle", "hubble_deep_field",
                  "immunohistochemistry", "retina", "camera", "coins", "moon", "grass", "gravel",
                  "brick", "clock")


def skimage_photos(crop=224):
    """(names, uint8 NHWC) for scikit-image's bundled natural photographs."""
    import skimage.data as sd

    names, imgs = [], []
    for name in SKIMAGE_PHOTOS:
        try:
            if name == "motorcycle":
                arr = sd.stereo_motorcycle()[0]
            else:
                arr = getattr(sd, name)()
        except Exception:  # a photo this scikit-image version lacks or would download
            continue
        names.append(name)
        imgs.append(resize_crop(np.asarray(arr, dtype=np.uint8), crop))
    if not imgs:
        raise RuntimeError("scikit-image ships none of the expected sample photos")
    return names, np.stack(imgs)
