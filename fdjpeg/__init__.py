"""fdjpeg: a bit-exact JPEG codec with Feature Distillation built in.

Decode and encode exactly like libjpeg-turbo (what Pillow uses), and purify
images against adversarial perturbations with the paper's DNN-oriented tables
(words as in docs/glossary.md): the defender's one-pass FD on a JPEG
``decode(data, purify=T)``, on a file ``transcode(data, purify=T)``, on pixels
``purify(pixels, T)``; the sensor's half of two-pass FD ``encode(raw, T)``.
Tables in any form of ``fdjpeg.tables.parse`` (``True``/``"fd"`` = the default).
"""
from fdjpeg import tables
from fdjpeg._api import DEFAULT_MAX_PIXELS, decode, inspect, read_coefficients
from fdjpeg._codec import kernel_name as _kernel_name
from fdjpeg._codec import version as _c_version
from fdjpeg.errors import (
    JPEGError,
    JPEGTooLargeError,
    NotJPEGError,
    TruncatedJPEGError,
    UnsupportedJPEGError,
)

from fdjpeg._encode_api import Purifier, encode, purify, transcode, write_coefficients

__version__ = "0.1.0"


def build_info() -> "Dict[str, str]":
    """Versions and the active kernels, for bug reports and benchmarks.

    Example::

        fdjpeg.build_info()   # {'version': '0.1.0', 'c_version': '0.1.0', 'kernels': 'avx2'}
    """
    return {"version": __version__, "c_version": _c_version(), "kernels": _kernel_name()}


from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Pillow is not imported by ``import fdjpeg``
    from typing import Any, Dict, List, Optional, Tuple, Union

    from PIL import Image

    from fdjpeg.pillow import FDJpegImageFile, FileLike, TableSpec


def open(fp: "FileLike", mode: str = "r", formats: "Optional[Union[List[str], Tuple[str, ...]]]" = None, *,  # noqa: A001
         purify: "TableSpec" = None) -> "FDJpegImageFile":
    """Open a JPEG like ``PIL.Image.open``, lazily; the pixels are decoded by fdjpeg and, with
    ``purify=`` (True = the package's FD table), purified in the decoder.  See
    :func:`fdjpeg.pillow.open`.

        im = fdjpeg.open("photo.jpg", purify=True)   # a PIL.Image.Image, format "JPEG"
    """
    from fdjpeg import pillow

    return pillow.open(fp, mode, formats, purify=purify)


def save(im: "Image.Image", fp: "FileLike", format: "Optional[str]" = None, **params: "Any") -> None:
    """Save ``im`` as JPEG, byte for byte what Pillow writes, with Pillow's JPEG keywords plus
    fdjpeg's ``table=`` (an FD table).  See :func:`fdjpeg.pillow.save`.

        fdjpeg.save(im, "out.jpg", quality=90)
    """
    from fdjpeg import pillow

    return pillow.save(im, fp, format, **params)


def offgrid_score(image: "Any", table: "Any" = None, **kwargs: "Any") -> "Any":
    """Off-grid energy of an image w.r.t. a table: see :func:`fdjpeg.detect.offgrid_score`.

    Example::

        score = fdjpeg.offgrid_score(fdjpeg.decode(jpg), "fd")   # ~0 for an FD sensor image
    """
    from fdjpeg import detect

    return detect.offgrid_score(image, table, **kwargs)


__all__ = [
    "decode", "encode", "purify", "Purifier", "transcode", "inspect", "read_coefficients", "write_coefficients",
    "open", "save", "tables", "offgrid_score", "build_info", "DEFAULT_MAX_PIXELS",
    "JPEGError", "UnsupportedJPEGError", "JPEGTooLargeError", "TruncatedJPEGError",
    "NotJPEGError", "__version__",
]
