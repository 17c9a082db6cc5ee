# Encoder side of the binding (included by _codec.pyx): fdj_encode,
# fdj_write_coefficients, fdj_purify, and the table arithmetic fdj_quality_table,
# fdj_scale_qtable and fdj_requantize_coefficients (csrc/transcode.c).  Arguments are
# checked in fdjpeg/_encode_api.py; here they are only copied into the C
# parameter struct.
from cpython.bytes cimport PyBytes_FromStringAndSize


cdef int _fill_params(fdj_encode_params *p, int width, int height, int in_color,
                      object qtables, object comp_qtable, object h_samp, object v_samp,
                      bint optimize, bint progressive, int restart_interval, int restart_rows,
                      bint keep_rgb, bint write_jfif, int density_unit, int x_density,
                      int y_density, bint write_adobe, uint64_t max_pixels,
                      int quality=0) except -1:
    """qtables None: libjpeg's quality-scaled tables for `quality` (1..100, checked by
    the caller), luma in slot 0 and chroma in the others comp_qtable names, made here
    in C (no numpy arrays per call)."""
    cdef int i, j, n
    cdef const uint16_t[:, ::1] tv
    fdj_encode_params_init(p)
    p.cpu = _CPU  # detected once at import (_codec.pyx)
    p.width = width
    p.height = height
    p.in_color = in_color
    p.keep_rgb = keep_rgb
    if len(comp_qtable) > 4 or len(h_samp) > 4 or len(h_samp) != len(v_samp):
        raise ValueError("at most 4 components, with one h and one v factor each")
    if qtables is None:
        if not 1 <= quality <= 100:
            raise ValueError(f"quality must be in 1..100, got {quality}")
        n = 1
        for i in range(len(comp_qtable)):
            if comp_qtable[i] < 0 or comp_qtable[i] > 3:
                raise ValueError("table slots are 0..3")
            n = max(n, <int>comp_qtable[i] + 1)
        for i in range(n):
            fdj_quality_table(quality, i > 0, 1, p.qtable[i])
    else:
        tabs = np.ascontiguousarray(qtables, dtype=np.uint16).reshape(-1, 64)
        n = tabs.shape[0]
        if n < 1 or n > 4:
            raise ValueError(f"1 to 4 quantization tables are needed, got {n}")
        tv = tabs  # typed view: 64 C reads per table, not 64 numpy scalar lookups (~70k instructions a call)
        for i in range(n):
            for j in range(64):
                p.qtable[i][j] = tv[i, j]
    p.num_qtables = n
    for i in range(len(comp_qtable)):
        p.comp_qtable[i] = comp_qtable[i]
    for i in range(len(h_samp)):
        p.h_samp[i] = h_samp[i]
        p.v_samp[i] = v_samp[i]
    p.optimize = optimize
    p.progressive = progressive
    p.restart_interval = restart_interval
    p.restart_rows = restart_rows
    p.write_jfif = write_jfif
    p.density_unit = density_unit
    p.x_density = x_density
    p.y_density = y_density
    p.write_adobe = write_adobe
    p.max_pixels = max_pixels
    return 0


cdef object _take_output(uint8_t *out, size_t size):
    try:
        return PyBytes_FromStringAndSize(<char *>out, <Py_ssize_t>size)
    finally:
        fdj_free(out)


def encode_pixels(cnp.ndarray pixels, int in_color, qtables, comp_qtable, h_samp, v_samp, *,
                  bint optimize=False, bint progressive=False, int restart_interval=0,
                  int restart_rows=0, bint keep_rgb=False, bint write_jfif=True,
                  int density_unit=0, int x_density=1, int y_density=1,
                  bint write_adobe=False, extra_segments=b"", uint64_t max_pixels=0,
                  int precision=8, int quality=0):
    """Encode a uint8 (H, W) or (H, W, C) array with any strides (checked by the caller);
    precision=12: a uint16 array of 12-bit samples.  qtables None: libjpeg's tables for
    `quality` (luma in slot 0, chroma in the slots above)."""
    cdef fdj_encode_params p
    cdef char msg[FDJ_MSG_SIZE]
    cdef uint8_t *out = NULL
    cdef size_t out_size = 0
    cdef int status
    cdef const uint8_t *src
    cdef ptrdiff_t rs, cs, chs
    cdef const uint8_t[::1] extra
    if pixels.dtype != (np.uint16 if precision == 12 else np.uint8):
        raise TypeError("pixels must be uint16 for precision 12, else uint8")
    if pixels.ndim not in (2, 3):
        raise ValueError("pixels must be 2-D or 3-D")
    _fill_params(&p, <int>pixels.shape[1], <int>pixels.shape[0], in_color, qtables, comp_qtable,
                 h_samp, v_samp, optimize, progressive, restart_interval, restart_rows,
                 keep_rgb, write_jfif, density_unit, x_density, y_density, write_adobe,
                 max_pixels, quality)
    p.precision = precision
    extra = bytes(extra_segments)
    if extra.shape[0] > 0:
        p.extra_segments = &extra[0]
        p.extra_size = extra.shape[0]
    src = <const uint8_t *>cnp.PyArray_DATA(pixels)
    rs = pixels.strides[0]
    cs = pixels.strides[1]
    chs = pixels.strides[2] if pixels.ndim == 3 else 0
    msg[0] = 0
    with nogil:
        status = fdj_encode(&p, src, rs, cs, chs, &out, &out_size, msg)
    _raise_status(status, msg)
    return _take_output(out, out_size)


def write_coefficient_arrays(list coefficients, int width, int height, int in_color, qtables,
                             comp_qtable, h_samp, v_samp, *, bint optimize=False,
                             bint progressive=False, int restart_interval=0,
                             int restart_rows=0, bint keep_rgb=False, bint write_jfif=True,
                             int density_unit=0, int x_density=1, int y_density=1,
                             bint write_adobe=False, extra_segments=b"", int precision=8):
    """Write C-contiguous int16 (bh, bw, 8, 8) arrays (checked by the caller) as a JPEG
    (precision 12: a 12-bit frame, SOF1/SOF2 with optimal tables)."""
    cdef fdj_encode_params p
    cdef char msg[FDJ_MSG_SIZE]
    cdef uint8_t *out = NULL
    cdef size_t out_size = 0
    cdef int status, c
    cdef const int16_t *ptrs[4]
    cdef const uint8_t[::1] extra
    cdef cnp.ndarray a
    _fill_params(&p, width, height, in_color, qtables, comp_qtable, h_samp, v_samp, optimize,
                 progressive, restart_interval, restart_rows, keep_rgb, write_jfif,
                 density_unit, x_density, y_density, write_adobe, 0)
    p.precision = precision
    if len(coefficients) > 4:
        raise ValueError("at most 4 components")
    for c in range(4):
        ptrs[c] = NULL
    for c in range(len(coefficients)):
        a = coefficients[c]
        if a.dtype != np.int16 or not a.flags.c_contiguous:
            raise TypeError("coefficient arrays must be C-contiguous int16")
        ptrs[c] = <const int16_t *>cnp.PyArray_DATA(a)
    extra = bytes(extra_segments)
    if extra.shape[0] > 0:
        p.extra_segments = &extra[0]
        p.extra_size = extra.shape[0]
    msg[0] = 0
    with nogil:
        status = fdj_write_coefficients(&p, ptrs, &out, &out_size, msg)
    _raise_status(status, msg)
    return _take_output(out, out_size)


def purify_pixels(cnp.ndarray pixels, cnp.ndarray out, int in_color, qtables, comp_qtable,
                  h_samp, v_samp, *, bint keep_rgb=False, int threads=1, int precision=8):
    """Fused purification of N images: pixels and out are (N, H, W, C) uint8 arrays
    (out with contiguous rows); the GIL is released once for the whole batch, which
    C hands out one at a time to `threads` threads (fdj_purify_batch).
    precision=12: uint16 arrays of 12-bit samples, qtables the 12-bit quantizers."""
    cdef fdj_encode_params p
    cdef char msg[FDJ_MSG_SIZE]
    cdef int status = FDJ_OK
    cdef size_t n
    cdef const uint8_t *src
    cdef uint8_t *dst
    cdef ptrdiff_t ns, rs, cs, chs, ons, ors
    if precision not in (8, 12):
        raise ValueError(f"precision must be 8 or 12, not {precision}")
    dt = np.uint16 if precision == 12 else np.uint8
    if pixels.dtype != dt or out.dtype != dt:
        raise TypeError("pixels must be uint16 for precision 12, else uint8")
    if pixels.ndim != 4 or out.ndim != 4:
        raise ValueError("pixels and out must be 4-D (N, H, W, C)")
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    _fill_params(&p, <int>pixels.shape[2], <int>pixels.shape[1], in_color, qtables, comp_qtable,
                 h_samp, v_samp, False, False, 0, 0, keep_rgb, True, 0, 1, 1, False, 0)
    p.precision = precision
    n = <size_t>pixels.shape[0]
    src = <const uint8_t *>cnp.PyArray_DATA(pixels)
    dst = <uint8_t *>cnp.PyArray_DATA(out)
    ns = pixels.strides[0]
    rs = pixels.strides[1]
    cs = pixels.strides[2]
    chs = pixels.strides[3]
    ons = out.strides[0]
    ors = out.strides[1]
    msg[0] = 0
    with nogil:
        status = fdj_purify_batch(&p, n, src, ns, rs, cs, chs, dst, ons, ors, threads, msg)
    _raise_status(status, msg)
    return out


cdef extern from "fdj_simd.h":
    int fdj_simd_level()


def purify_key(object pixels):
    """level * 256 + channels * 16 + precision (8 or 12) for plain purify input -- a
    numpy array of native uint8 or uint16, shape (H, W), (H, W, C) or (N, H, W, C) with
    C in 1, 3, 4 and N, H, W > 0 -- else 0 (the caller then runs the full checks).
    level is the SIMD level now (FDJPEG_SIMD is read on every call, as the C calls do):
    a purifier's kernels are those of the level it was made at."""
    cdef cnp.ndarray a
    cdef int t, prec, nd, c
    cdef cnp.npy_intp *sh
    if not cnp.PyArray_Check(pixels):
        return 0
    a = <cnp.ndarray>pixels
    if not cnp.PyArray_ISNOTSWAPPED(a):
        return 0
    t = cnp.PyArray_TYPE(a)
    prec = 8 if t == cnp.NPY_UINT8 else 12 if t == cnp.NPY_UINT16 else 0
    nd = a.ndim
    sh = cnp.PyArray_DIMS(a)
    if prec == 0 or nd < 2 or nd > 4:
        return 0
    c = 1 if nd == 2 else <int>sh[nd - 1]
    if c != 1 and c != 3 and c != 4:
        return 0
    if (nd == 4 and sh[0] == 0) or sh[nd - 3 if nd >= 3 else 0] == 0 or sh[nd - 2 if nd >= 3 else 1] == 0:
        return 0
    return fdj_simd_level() * 256 + c * 16 + prec


cdef class PurifyPlan:
    """A C purifier (fdj_purifier): tables, sampling, colour and precision checked and
    turned into the kernels' constants once (by the caller, fdjpeg.Purifier), then
    ``run`` on any number of images of any size.  in_color fixes the channels
    (1 gray, 3 RGB, 4 CMYK) and precision the dtype (8: uint8, 12: uint16)."""
    cdef fdj_purifier *pf
    cdef readonly int channels
    cdef readonly int precision

    def __cinit__(self, int in_color, qtables, comp_qtable, h_samp, v_samp, *,
                  bint keep_rgb=False, int precision=8):
        cdef fdj_encode_params p
        cdef char msg[FDJ_MSG_SIZE]
        cdef int status
        self.pf = NULL
        if precision not in (8, 12):
            raise ValueError(f"precision must be 8 or 12, not {precision}")
        _fill_params(&p, 8, 8, in_color, qtables, comp_qtable, h_samp, v_samp, False, False, 0,
                     0, keep_rgb, True, 0, 1, 1, False, 0)
        p.precision = precision
        self.channels = {1: 1, 3: 3, 4: 4}[in_color]
        self.precision = precision
        msg[0] = 0
        status = fdj_purifier_new(&p, &self.pf, msg)
        _raise_status(status, msg)

    def __dealloc__(self):
        if self.pf != NULL:
            fdj_purifier_free(self.pf)
            self.pf = NULL

    def run(self, cnp.ndarray pixels, int threads=1, cnp.ndarray out=None):
        """Purify (H, W), (H, W, C) or (N, H, W, C) pixels of this plan's channels and
        dtype (checked by the caller: non-empty, right dtype and channels) into a new
        array of the same shape, or into out (checked by the caller: the shape and dtype
        of pixels, C-contiguous, writeable, not overlapping pixels; shape, dtype,
        contiguity and writeability checked again here); the GIL is released once for
        the whole batch."""
        cdef char msg[FDJ_MSG_SIZE]
        cdef int status, nd = pixels.ndim
        cdef size_t n = 1
        cdef int h, w
        cdef ptrdiff_t ns = 0, rs, cs, chs = 0, ors, ons
        cdef const uint8_t *src
        cdef uint8_t *dst
        if nd == 4:
            n = <size_t>pixels.shape[0]
            ns = pixels.strides[0]
        h = <int>pixels.shape[nd - 3 if nd >= 3 else 0]
        w = <int>pixels.shape[nd - 2 if nd >= 3 else 1]
        rs = pixels.strides[nd - 3 if nd >= 3 else 0]
        cs = pixels.strides[nd - 2 if nd >= 3 else 1]
        if nd >= 3:
            chs = pixels.strides[nd - 1]
        if out is None:
            out = cnp.PyArray_EMPTY(nd, pixels.shape, cnp.NPY_UINT16 if self.precision == 12 else cnp.NPY_UINT8, 0)
        elif (out.ndim != nd or cnp.PyArray_TYPE(out) != cnp.PyArray_TYPE(pixels)
              or not cnp.PyArray_ISCARRAY(out)
              or not cnp.PyArray_SAMESHAPE(out, pixels)):
            raise ValueError("out must be a C-contiguous, writeable array of the shape and dtype of pixels")
        ors = <ptrdiff_t>w * self.channels * (2 if self.precision == 12 else 1)
        ons = ors * h
        src = <const uint8_t *>cnp.PyArray_DATA(pixels)
        dst = <uint8_t *>cnp.PyArray_DATA(out)
        msg[0] = 0
        with nogil:
            status = fdj_purifier_run(self.pf, w, h, n, src, ns, rs, cs, chs, dst, ons, ors,
                                      threads, msg)
        _raise_status(status, msg)
        return out


def quality_table(int quality, bint chroma=False, bint force_baseline=True):
    """libjpeg's quality-scaled Annex K table, natural order, shape (8, 8) uint16."""
    cdef uint16_t t[64]
    cdef int i
    fdj_quality_table(quality, chroma, force_baseline, t)
    return np.array([t[i] for i in range(64)], dtype=np.uint16).reshape(8, 8)


def scale_table(base, int quality, bint force_baseline=True):
    """libjpeg's quality scaling of a natural-order table of 64 entries 1..65535
    (checked by the caller): (8, 8) uint16."""
    cdef uint16_t b[64]
    cdef uint16_t t[64]
    cdef int i
    vals = np.ascontiguousarray(base, dtype=np.uint16).reshape(64)
    for i in range(64):
        b[i] = vals[i]
    fdj_scale_qtable(b, quality, force_baseline, t)
    return np.array([t[i] for i in range(64)], dtype=np.uint16).reshape(8, 8)


def requantize_coefficients(cnp.ndarray coef, qfile, table):
    """Requantize a C-contiguous int16 (..., 8, 8) array quantized with qfile to table
    (tables: 64 entries, natural order): a new array of the same shape."""
    cdef uint16_t q[64]
    cdef uint16_t t[64]
    cdef char msg[FDJ_MSG_SIZE]
    cdef int i, status
    cdef size_t nblocks
    cdef cnp.ndarray out
    cdef const int16_t *src
    cdef int16_t *dst
    if coef.dtype != np.int16 or not coef.flags.c_contiguous or coef.size % 64:
        raise TypeError("coefficients must be a C-contiguous int16 array of 8x8 blocks")
    qv = np.ascontiguousarray(qfile, dtype=np.uint16).reshape(64)
    tv = np.ascontiguousarray(table, dtype=np.uint16).reshape(64)
    for i in range(64):
        q[i] = qv[i]
        t[i] = tv[i]
    out = np.empty_like(coef)
    nblocks = <size_t>(coef.size // 64)
    src = <const int16_t *>cnp.PyArray_DATA(coef)
    dst = <int16_t *>cnp.PyArray_DATA(out)
    msg[0] = 0
    with nogil:
        status = fdj_requantize_coefficients(src, nblocks, q, t, dst, msg)
    _raise_status(status, msg)
    return out
