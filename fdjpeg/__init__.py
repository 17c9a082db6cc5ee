"""fdjpeg: a bit-exact JPEG codec with Feature Distillation built in."""
from fdjpeg._codec import version as _c_version
from fdjpeg.errors import (
    JPEGError,
    JPEGTooLargeError,
    NotJPEGError,
    TruncatedJPEGError,
    UnsupportedJPEGError,
)

__version__ = "0.1.0"
