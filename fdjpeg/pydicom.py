"""A pydicom 3 pixel-data decoder plugin: DICOM's JPEG transfer syntaxes through fdjpeg.

    import pydicom, fdjpeg.pydicom
    fdjpeg.pydicom.register()                       # adds the "fdjpeg" plugin
    ds = pydicom.dcmread("ct.dcm")
    ds.pixel_array_options(decoding_plugin="fdjpeg")  # or leave the choice to pydicom
    arr = ds.pixel_array
    # one-pass Feature Distillation while decoding (DCT-based syntaxes only):
    ds.pixel_array_options(decoding_plugin="fdjpeg", fdjpeg_purify=True)

Transfer syntaxes: JPEG Baseline (1.2.840.10008.1.2.4.50), JPEG Extended 12-bit
(1.2.840.10008.1.2.4.51: 8- and 12-bit samples), JPEG Lossless (…4.57) and JPEG Lossless
SV1 (…4.70), 2 to 16 bits.  Samples are returned as pydicom's other JPEG plugins return them:
colour-by-pixel, *without* colour conversion for multi-sample frames (YCbCr stays YCbCr,
pydicom converts it to RGB according to the Photometric Interpretation), except that a
frame with a complete Adobe APP14 marker (one with its transform byte) is colour-converted as
that marker says: exactly what pydicom's Pillow plugin does.  4-sample frames are refused.  8-bit samples are 1 byte, 9..16-bit samples 2 bytes (the container
pydicom's *Bits Allocated* gives, or 16 bits where the JPEG's precision needs more).

``fdjpeg_purify`` takes every table form ``fdjpeg.decode(purify=)`` takes (``True`` = the
package's FD table); at 12 bits the table keeps its 8-bit meaning and is applied scaled by 16
(see ``fdjpeg.decode``).  Lossless frames have no DCT coefficients: purification raises.
"""
from __future__ import annotations

import numpy as np

__all__ = ["register", "unregister", "is_available", "DECODER_DEPENDENCIES", "PLUGIN_LABEL"]

PLUGIN_LABEL = "fdjpeg"

_UIDS = (
    "1.2.840.10008.1.2.4.50",  # JPEG Baseline (Process 1)
    "1.2.840.10008.1.2.4.51",  # JPEG Extended (Process 2 and 4): 8 or 12 bits
    "1.2.840.10008.1.2.4.57",  # JPEG Lossless, Non-Hierarchical (Process 14)
    "1.2.840.10008.1.2.4.70",  # JPEG Lossless, Non-Hierarchical, First-Order Prediction (SV1)
)

#: pydicom's plugin interface: what each syntax needs (fdjpeg itself, with numpy).
DECODER_DEPENDENCIES = {uid: ("fdjpeg", "numpy") for uid in _UIDS}


def _uid_objects():
    from pydicom import uid

    return {str(u): u for u in (uid.JPEGBaseline8Bit, uid.JPEGExtended12Bit, uid.JPEGLossless,
                                uid.JPEGLosslessSV1)}


def is_available(uid: str) -> bool:
    """pydicom's plugin interface: True for the four JPEG transfer syntaxes fdjpeg decodes."""
    return str(uid) in _UIDS


def _raw_components(src: bytes) -> bytes:
    """The codestream with its colour-space hints removed (JFIF APP0 and Adobe APP14 ids
    defaced, component ids set to 'R', 'G', 'B'), so that a 3-component frame decodes to its
    stored components with libjpeg's upsampling and no colour conversion (what pydicom's
    Pillow plugin gets with ``draft("YCbCr")``)."""
    import fdjpeg

    info = fdjpeg.inspect(src)
    out = bytearray(src)
    ids = {}
    for name, off, length in info["markers"]:
        payload = off + 4
        if name == "APP0" and src[payload:payload + 5] == b"JFIF\x00":
            out[payload + 3] = ord("X")
        elif name.startswith("SOF"):
            n = src[payload + 5]
            for i in range(n):
                cid = src[payload + 6 + 3 * i]
                ids[cid] = (82, 71, 66)[i]
                out[payload + 6 + 3 * i] = ids[cid]
        elif name == "SOS":
            for i in range(src[payload]):
                cid = src[payload + 1 + 2 * i]
                out[payload + 1 + 2 * i] = ids.get(cid, cid)
    return bytes(out)


def _decode_frame(src: bytes, runner) -> bytes | bytearray:
    """pydicom's plugin interface: decode one JPEG frame to pydicom's raw pixel bytes."""
    import fdjpeg

    purify = runner.get_option("fdjpeg_purify", None)
    info = fdjpeg.inspect(src)
    data = src
    if info["num_components"] == 3 and "adobe_transform" not in info and info["jpeg_color"] != "rgb":
        data = _raw_components(src)
    elif info["num_components"] == 4:
        raise NotImplementedError("fdjpeg's pydicom plugin decodes 1- and 3-sample JPEG frames")
    arr = fdjpeg.decode(data, purify=purify)
    bits = 8 * arr.dtype.itemsize
    allocated = runner.bits_allocated
    if allocated not in (8, 16) or allocated < bits:
        runner.set_option("bits_allocated", bits)
        allocated = bits
    if allocated == 16 and arr.dtype != np.uint16:
        arr = arr.astype(np.uint16)
    return arr.astype("<u2" if allocated == 16 else np.uint8, copy=False).tobytes()


def _decoders():
    from pydicom.pixels.decoders import base

    uids = _uid_objects()
    return [base.get_decoder(uids[u]) for u in _UIDS]


def register() -> None:
    """Add the "fdjpeg" plugin to pydicom's JPEG decoders (after the plugins it has)."""
    for dec in _decoders():
        if PLUGIN_LABEL not in dec.available_plugins:
            dec.add_plugin(PLUGIN_LABEL, (__name__, "_decode_frame"))


def unregister() -> None:
    """Remove the "fdjpeg" plugin from pydicom's JPEG decoders."""
    for dec in _decoders():
        if PLUGIN_LABEL in dec.available_plugins:
            dec.remove_plugin(PLUGIN_LABEL)
