"""Exception types raised by fdjpeg.

All are :class:`JPEGError`, a subclass of :class:`OSError` (as Pillow's decoder errors), so
``except OSError`` code written for Pillow keeps working; the subclasses say why.
"""

__all__ = ["JPEGError", "UnsupportedJPEGError", "JPEGTooLargeError", "TruncatedJPEGError", "NotJPEGError"]


class JPEGError(OSError):
    """Bad JPEG data (a subclass of OSError, like Pillow's decoder errors).

    Example::

        >>> import fdjpeg
        >>> try:
        ...     fdjpeg.decode(b"GIF89a not a JPEG")
        ... except fdjpeg.JPEGError as exc:
        ...     print(isinstance(exc, OSError), exc)
        True not a JPEG file: no SOI marker at offset 0
    """


class UnsupportedJPEGError(JPEGError):
    """A valid JPEG using a feature fdjpeg does not decode (e.g. 12-bit, hierarchical).

    Example::

        >>> import numpy as np, fdjpeg
        >>> data = fdjpeg.encode(np.zeros((16, 16, 3), np.uint8))
        >>> hierarchical = data.replace(b"\\xff\\xc0", b"\\xff\\xc5", 1)   # SOF0 -> SOF5
        >>> try:
        ...     fdjpeg.decode(hierarchical)
        ... except fdjpeg.UnsupportedJPEGError as exc:
        ...     print(exc)
        hierarchical JPEG (SOF5) is not supported
    """


class JPEGTooLargeError(JPEGError):
    """The image exceeds a configured limit (pixels, scans, segment bytes).

    Example::

        >>> import numpy as np, fdjpeg
        >>> data = fdjpeg.encode(np.zeros((16, 16, 3), np.uint8))
        >>> try:
        ...     fdjpeg.decode(data, max_pixels=100)
        ... except fdjpeg.JPEGTooLargeError as exc:
        ...     print(exc)
        image of 16 x 16 = 256 pixels exceeds the limit of 100 pixels
    """


class TruncatedJPEGError(JPEGError):
    """The data ends before EOI (pass allow_truncated=True to decode what is there).

    Example::

        >>> import numpy as np, fdjpeg
        >>> data = fdjpeg.encode(np.full((64, 64, 3), 100, np.uint8))
        >>> try:
        ...     fdjpeg.decode(data[:-10])
        ... except fdjpeg.TruncatedJPEGError as exc:
        ...     print(exc)
        JPEG data is truncated: it ends inside scan 1
        >>> fdjpeg.decode(data[:-10], allow_truncated=True).shape
        (64, 64, 3)
    """


class NotJPEGError(JPEGError):
    """The data does not start with a JPEG SOI marker.

    Example::

        >>> import fdjpeg
        >>> try:
        ...     fdjpeg.decode(b"\\x89PNG\\r\\n")
        ... except fdjpeg.NotJPEGError as exc:
        ...     print(exc)
        not a JPEG file: no SOI marker at offset 0
    """
