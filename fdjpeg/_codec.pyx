# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Thin binding over the C codec in csrc/ (see fdjpeg.h).

All C work runs inside ``with nogil:``; C status codes become exceptions in one
place, :func:`_raise_status`; C objects are owned by ``cdef class`` wrappers whose
``__dealloc__`` frees them, so an exception can never leak them.  The public,
argument-checking API lives in ``fdjpeg/_api.py``.
"""
from libc.stdint cimport uint8_t, uint16_t, uint64_t, int16_t
from libc.string cimport memset, memcpy, memcmp
cimport numpy as cnp
import numpy as np

from fdjpeg._cfdjpeg cimport *
from fdjpeg.errors import (
    JPEGError,
    JPEGTooLargeError,
    NotJPEGError,
    TruncatedJPEGError,
    UnsupportedJPEGError,
)

cnp.import_array()

# The CPU's kernel features, detected once per process here (a CPUID is a VM exit under
# virtualisation, ~3 us each) and handed to every decode, encode and purify call through
# the options' `cpu` field; FDJPEG_SIMD=0 is still read per call (csrc/fdj_simd.c).
cdef unsigned _CPU = fdj_cpu_detect()

_STATUS_EXCEPTIONS = {
    FDJ_ERR_CORRUPT: JPEGError,
    FDJ_ERR_UNSUPPORTED: UnsupportedJPEGError,
    FDJ_ERR_TOO_LARGE: JPEGTooLargeError,
    FDJ_ERR_NOMEM: MemoryError,
    FDJ_ERR_ARGUMENT: ValueError,
    FDJ_ERR_TRUNCATED: TruncatedJPEGError,
    FDJ_ERR_NOT_JPEG: NotJPEGError,
}


cdef int _raise_status(int status, const char *msg) except -1:
    """The one place where a C status becomes a Python exception."""
    if status == FDJ_OK:
        return 0
    text = msg.decode("utf-8", "replace") if msg != NULL and msg[0] != 0 else ""
    if not text:
        text = fdj_status_string(status).decode("ascii")
    exc = _STATUS_EXCEPTIONS.get(status, JPEGError)
    raise exc(text)


def version():
    """Version of the compiled C library."""
    return fdj_version().decode("ascii")


def kernel_name():
    """Name of the active DCT/colour kernels ("scalar", "sse2", "avx2")."""
    return fdj_kernel_name().decode("ascii")


include "_decode.pxi"
include "_encode.pxi"
