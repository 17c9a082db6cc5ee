# Decoder side of the binding (included by _codec.pyx).

_COLOR_NAMES = {FDJ_CS_UNKNOWN: "unknown", FDJ_CS_GRAY: "gray", FDJ_CS_RGB: "rgb",
                FDJ_CS_YCBCR: "ycbcr", FDJ_CS_CMYK: "cmyk", FDJ_CS_YCCK: "ycck"}


cdef class RqTables:
    """One prebuilt one-pass FD table (fdj_rq_tables, fdjpeg.h) for a (file table q,
    purify table T) pair; read-only once built, so concurrent decodes share it."""
    cdef fdj_rq_tables *ptr

    def __dealloc__(self):
        if self.ptr != NULL:
            fdj_rq_tables_free(self.ptr)
            self.ptr = NULL

    def usable(self):
        """False when its entries leave int16 (decodes requantize after the Huffman decoder)."""
        return bool(fdj_rq_tables_usable(self.ptr))


# The one-pass FD tables decodes reuse, keyed by the pair's bytes (q then T, natural
# order): a decode with purify of a sequential file builds none for the pairs found here
# (~44 KB of stores each otherwise).  At most RQ_TABLES_MAX, the least recently used
# dropped first (the dict's order is the use order: a hit moves its key to the end); 300
# ImageNet files hold 48 distinct file tables, 1000 hold 68.  A Decoder holds references
# to the tables it was handed, so dropping one never frees it while in use.  Dict
# operations run under the GIL (this code calls no Python code between them) and a table
# never changes after it is built, so decodes on several threads only read them.
_RQ_TABLES = {}
RQ_TABLES_MAX = 64


def rq_cache_size():
    """Number of (q, T) tables in the decoder's one-pass FD table cache."""
    return len(_RQ_TABLES)


def rq_cache_clear():
    """Empty the one-pass FD table cache (decoders holding tables keep them)."""
    _RQ_TABLES.clear()


cdef RqTables _rq_tables_for(const uint16_t *q, const uint16_t *t):
    """The cached table for (q, T), built on a miss; None for a T entry of 0 (the
    decoder's own check reports it)."""
    cdef uint16_t kb[128]
    cdef int st
    cdef RqTables r
    cdef fdj_rq_tables *p = NULL
    memcpy(kb, q, 64 * sizeof(uint16_t))
    memcpy(&kb[64], t, 64 * sizeof(uint16_t))
    key = (<char *>kb)[:128 * sizeof(uint16_t)]
    found = _RQ_TABLES.pop(key, None)
    if found is not None:
        _RQ_TABLES[key] = found  # now the most recently used
        return <RqTables>found
    with nogil:
        st = fdj_rq_tables_new(q, t, &p)
    if st == FDJ_ERR_ARGUMENT:
        return None
    _raise_status(st, NULL)
    r = RqTables.__new__(RqTables)
    r.ptr = p
    _RQ_TABLES.pop(key, None)  # another thread may have built it meanwhile
    while len(_RQ_TABLES) >= RQ_TABLES_MAX:
        del _RQ_TABLES[next(iter(_RQ_TABLES))]  # the least recently used
    _RQ_TABLES[key] = r
    return r


cdef class Decoder:
    """Owns one fdj_decoder and the buffer it reads from."""
    cdef fdj_decoder *dec
    cdef fdj_decode_options opt
    cdef object _data          # keeps the buffer alive while C reads it
    cdef const uint8_t[::1] _view
    cdef list _rq              # the RqTables opt.rq_tables points to (kept alive here)

    def __cinit__(self):
        self.dec = fdj_decoder_new()
        if self.dec == NULL:
            raise MemoryError("cannot allocate decoder")

    def __dealloc__(self):
        if self.dec != NULL:
            fdj_decoder_free(self.dec)
            self.dec = NULL

    def __init__(self, data, *, uint64_t max_pixels=0, int max_scans=0,
                 uint64_t max_segment_bytes=0, bint allow_truncated=False,
                 int out_format=FDJ_OUT_NATIVE, int scale_denom=1,
                 bint invert_adobe_cmyk=True, purify=None):
        cdef const uint8_t[::1] view
        cdef int status
        cdef const uint8_t *ptr
        cdef size_t size
        try:
            view = memoryview(data).cast("B")
        except TypeError:
            raise TypeError(f"data must be bytes-like, not {type(data).__name__}") from None
        self._data = data
        self._view = view
        fdj_decode_options_init(&self.opt)
        self.opt.cpu = _CPU
        self.opt.max_pixels = max_pixels
        self.opt.max_scans = max_scans
        self.opt.max_segment_bytes = max_segment_bytes
        self.opt.allow_truncated = allow_truncated
        self.opt.out_format = out_format
        self.opt.scale_denom = scale_denom
        self.opt.invert_adobe_cmyk = invert_adobe_cmyk
        size = view.shape[0]
        ptr = &view[0] if size > 0 else NULL
        with nogil:
            status = fdj_decoder_open(self.dec, ptr, size, &self.opt)
        _raise_status(status, fdj_decoder_message(self.dec))
        if purify is not None:
            self.set_purify(purify)

    def set_purify(self, tables, bint cache=True):
        """Set one-pass purification tables ((n, 64) natural order; n = 1, 2 or one per
        component, see fdj_decode_options.purify_count) before decode().  cache: hand
        the decoder the cached tables of its (q, T) pairs (built once per pair,
        fdj_rq_tables); False: the decoder builds what it needs itself."""
        cdef int i, j, n, st
        cdef const uint16_t[:, ::1] tv
        cdef list kept = None
        memset(self.opt.rq_tables, 0, sizeof(self.opt.rq_tables))
        if tables is None:
            self.opt.purify_count = 0
            st = fdj_decoder_set_purify(self.dec, &self.opt)
            if st == FDJ_OK:
                self._rq = None
            _raise_status(st, fdj_decoder_message(self.dec))
            return
        tabs = np.ascontiguousarray(tables, dtype=np.uint16).reshape(-1, 64)
        n = tabs.shape[0]
        if n < 1 or n > 4:
            raise ValueError("purify needs 1 to 4 tables")
        tv = tabs  # typed view: a C copy; entries of 0 are refused by fdj_decoder_set_purify
        for i in range(n):
            for j in range(64):
                self.opt.purify[i][j] = tv[i, j]
        self.opt.purify_count = n
        if cache:
            kept = self._attach_rq_tables()
        st = fdj_decoder_set_purify(self.dec, &self.opt)
        # the C decoder points at the tables it was handed: their references change only
        # when it took them (on an error it keeps the previous ones)
        if st == FDJ_OK:
            self._rq = kept
        _raise_status(st, fdj_decoder_message(self.dec))

    cdef list _attach_rq_tables(self):
        """opt.rq_tables: the cached tables of the components' distinct (q, T) pairs, for
        the decodes that requantize in the Huffman decoder (8-bit sequential Huffman at
        full size; the decoder uses them only where (q, T) match)."""
        cdef const fdj_info *inf = fdj_decoder_info(self.dec)
        cdef const uint16_t *q
        cdef const uint16_t *t
        cdef const uint16_t *qs[4]
        cdef const uint16_t *ts[4]
        cdef int c, j, m = 0, n = self.opt.purify_count, nz
        cdef RqTables r
        kept = []
        if inf.precision != 8 or inf.progressive or inf.arithmetic or inf.lossless \
                or self.opt.scale_denom != 1 or n < 1:
            return kept
        for c in range(inf.num_components):
            q = &inf.comp[c].qtable[0]
            t = fdj_purify_table_for(&self.opt, c)
            nz = 0
            for j in range(64):
                nz |= q[j]
            if nz == 0:
                continue  # a component outside the first scan: table not known yet
            for j in range(m):
                if memcmp(qs[j], q, 128) == 0 and memcmp(ts[j], t, 128) == 0:
                    break
            else:
                r = _rq_tables_for(q, t)
                if r is None:
                    continue
                qs[m] = q
                ts[m] = t
                self.opt.rq_tables[m] = r.ptr
                kept.append(r)
                m += 1
        return kept

    def rq_tables_attached(self):
        """How many prebuilt one-pass FD tables the next decode is handed."""
        return 0 if not self._rq else len(self._rq)

    def info(self):
        """Frame and header facts as a dict (no pixel work)."""
        cdef const fdj_info *inf = fdj_decoder_info(self.dec)
        cdef int c
        comps = []
        for c in range(inf.num_components):
            ci = inf.comp[c]
            comps.append({
                "id": ci.id, "h": ci.h, "v": ci.v, "tq": ci.tq,
                "width_in_blocks": ci.width_in_blocks,
                "height_in_blocks": ci.height_in_blocks,
                "downsampled_width": ci.downsampled_width,
                "downsampled_height": ci.downsampled_height,
                "qtable": np.array([ci.qtable[j] for j in range(64)], np.uint16).reshape(8, 8),
            })
        qtables = {}
        for c in range(4):
            if inf.qtable_bits[c]:
                qtables[c] = np.array([inf.qtable[c][j] for j in range(64)], np.uint16).reshape(8, 8)
        return {
            "width": inf.width, "height": inf.height,
            "num_components": inf.num_components, "sof": inf.sof,
            "progressive": bool(inf.progressive), "arithmetic": bool(inf.arithmetic),
            "lossless": bool(inf.lossless), "precision": inf.precision,
            "jpeg_color": _COLOR_NAMES.get(inf.jpeg_color, "unknown"),
            "max_h": inf.max_h, "max_v": inf.max_v,
            "restart_interval": inf.restart_interval,
            "components": comps, "qtables": qtables,
            "qtable_bits": {c: inf.qtable_bits[c] for c in range(4) if inf.qtable_bits[c]},
            "jfif": (inf.jfif_major, inf.jfif_minor) if inf.has_jfif else None,
            "density": (inf.density_unit, inf.x_density, inf.y_density) if inf.has_jfif else None,
            "adobe_transform": inf.adobe_transform if inf.has_adobe else None,
            "num_scans": inf.num_scans,
        }

    def markers(self):
        """List of (marker byte, offset, length) for every marker seen so far."""
        cdef size_t n, i
        cdef const fdj_marker *m = fdj_decoder_markers(self.dec, &n)
        return [(m[i].marker, m[i].offset, m[i].length) for i in range(n)]

    def num_components(self):
        """Components in the frame (cheaper than info() on the per-image path)."""
        return fdj_decoder_info(self.dec).num_components

    def lossless(self):
        """True for a lossless (SOF3) frame (cheaper than info() on the per-image path)."""
        return bool(fdj_decoder_info(self.dec).lossless)

    def output_shape(self):
        cdef int h, w, ch
        _raise_status(fdj_decoder_output_shape(self.dec, &h, &w, &ch), fdj_decoder_message(self.dec))
        return (h, w, ch)

    def sample_dtype(self):
        """numpy dtype of decode()'s output: uint8 up to 8 bits, uint16 above."""
        return np.dtype(np.uint16) if fdj_decoder_sample_bytes(self.dec) == 2 else np.dtype(np.uint8)

    def decode(self, out=None):
        """Decode the pixels into a new (or the given) uint8 array (uint16 for
        frames of more than 8 bits)."""
        cdef int status
        cdef cnp.ndarray arr
        cdef uint8_t *dst
        cdef Py_ssize_t stride
        cdef int sb = fdj_decoder_sample_bytes(self.dec)
        h, w, ch = self.output_shape()
        shape = (h, w) if ch == 1 else (h, w, ch)
        dtype = np.uint16 if sb == 2 else np.uint8
        if out is None:
            arr = np.empty(shape, dtype=dtype)
        else:
            if not isinstance(out, np.ndarray):
                raise TypeError("out must be a numpy array")
            o = out
            if o.dtype != dtype or tuple(o.shape) != shape:
                raise ValueError(f"out must be {np.dtype(dtype).name} with shape {shape}, got {o.dtype} {o.shape}")
            if not o.flags.writeable:
                raise ValueError("out must be writeable")
            if o.strides[o.ndim - 1] != sb or (o.ndim == 3 and o.strides[1] != ch * sb):
                raise ValueError("out must have contiguous rows")
            arr = o
        dst = <uint8_t *>cnp.PyArray_DATA(arr)
        stride = arr.strides[0]
        with nogil:
            status = fdj_decoder_decode(self.dec, dst, stride)
        _raise_status(status, fdj_decoder_message(self.dec))
        return arr

    def decode_region(self, int x, int y, int width, int height, out=None):
        """Decode only the region (x, y, width, height) of the output (the full decode's
        pixels cropped; fdj_decoder_decode_region): uint8, or uint16 for frames of more
        than 8 bits (12-bit lossy, 9..16-bit lossless)."""
        cdef int status
        cdef cnp.ndarray arr
        cdef uint8_t *dst
        cdef Py_ssize_t stride
        cdef int sb = fdj_decoder_sample_bytes(self.dec)
        h, w, ch = self.output_shape()
        shape = (height, width) if ch == 1 else (height, width, ch)
        dtype = np.uint16 if sb == 2 else np.uint8
        if out is None:
            arr = np.empty(shape, dtype=dtype)
        else:
            if not isinstance(out, np.ndarray):
                raise TypeError("out must be a numpy array")
            o = out
            if o.dtype != dtype or tuple(o.shape) != shape:
                raise ValueError(f"out must be {np.dtype(dtype).name} with shape {shape}, got {o.dtype} {o.shape}")
            if not o.flags.writeable:
                raise ValueError("out must be writeable")
            if o.strides[o.ndim - 1] != sb or (o.ndim == 3 and o.strides[1] != ch * sb):
                raise ValueError("out must have contiguous rows")
            arr = o
        dst = <uint8_t *>cnp.PyArray_DATA(arr)
        stride = arr.strides[0]
        with nogil:
            status = fdj_decoder_decode_region(self.dec, x, y, width, height, dst, stride)
        _raise_status(status, fdj_decoder_message(self.dec))
        return arr

    def read_rows(self, out):
        """Decode the next rows into out (a uint8 array of shape (n, width[, channels]) with
        contiguous rows); returns how many were written (0 after the last row)."""
        cdef int status, done = 0, n
        cdef uint8_t *dst
        cdef Py_ssize_t stride
        cdef cnp.ndarray arr
        h, w, ch = self.output_shape()
        if not isinstance(out, np.ndarray):
            raise TypeError("out must be a numpy array")
        arr = out
        if arr.dtype != np.uint8 or arr.ndim not in (2, 3) or arr.shape[1] != w \
                or (arr.ndim == 3 and arr.shape[2] != ch) or (arr.ndim == 2 and ch != 1):
            raise ValueError(f"out must be uint8 of shape (n, {w}{'' if ch == 1 else ', %d' % ch})")
        if not arr.flags.writeable or arr.strides[arr.ndim - 1] != 1 \
                or (arr.ndim == 3 and arr.strides[1] != ch):
            raise ValueError("out must be writeable with contiguous rows")
        n = arr.shape[0]
        dst = <uint8_t *>cnp.PyArray_DATA(arr)
        stride = arr.strides[0]
        with nogil:
            status = fdj_decoder_read_rows(self.dec, dst, stride, n, &done)
        _raise_status(status, fdj_decoder_message(self.dec))
        return done

    def was_truncated(self):
        return bool(fdj_decoder_was_truncated(self.dec))

    def read_coefficients(self):
        """Quantized coefficients, one int16 array (bh, bw, 8, 8) per component."""
        cdef const fdj_info *inf = fdj_decoder_info(self.dec)
        cdef int16_t *ptrs[4]
        cdef int c, status
        cdef cnp.ndarray a
        arrays = []
        for c in range(inf.num_components):
            a = np.zeros((inf.comp[c].height_in_blocks, inf.comp[c].width_in_blocks, 8, 8),
                         dtype=np.int16)
            arrays.append(a)
            ptrs[c] = <int16_t *>cnp.PyArray_DATA(a)
        with nogil:
            status = fdj_decoder_read_coefficients(self.dec, ptrs)
        _raise_status(status, fdj_decoder_message(self.dec))
        return arrays
