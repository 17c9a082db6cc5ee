"""Exception types raised by fdjpeg."""


class JPEGError(OSError):
    """Bad JPEG data (a subclass of OSError, like Pillow's decoder errors)."""


class UnsupportedJPEGError(JPEGError):
    """A valid JPEG using a feature fdjpeg does not decode (e.g. 12-bit, hierarchical)."""


class JPEGTooLargeError(JPEGError):
    """The image exceeds a configured limit (pixels, scans, segment bytes)."""


class TruncatedJPEGError(JPEGError):
    """The data ends before EOI (pass allow_truncated=True to decode what is there)."""


class NotJPEGError(JPEGError):
    """The data does not start with a JPEG SOI marker."""
