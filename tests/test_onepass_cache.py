"""One-pass FD tables kept across decodes (fdj_rq_tables, fdjpeg.h; the binding's cache in
fdjpeg/_decode.pxi).

A decode with ``purify=T`` of a single-scan sequential Huffman file requantizes in its Huffman
decoder from one table per distinct (file table q, T) pair.  The binding keeps those tables
(at most ``RQ_TABLES_MAX``, least recently used dropped) and hands them to every decode, which
then builds none for the pairs they match.  Whether a table comes from the cache or is built
for the call must never change a byte: every decode here is compared with the same decode
without the cache (``set_purify(..., cache=False)``, the tables built per call as before) and,
for crafted coefficients, with the same coefficients written progressive (multi-scan: the row
stage's requantizer, a separate code path that never uses these tables).  The C side (a table
is used only for the pair it was built from; unusable ones keep the row stage; fewer
allocations) is tested in csrc/tests/test_stream.c.
"""
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

import fdjpeg
from conftest import IMAGENET, need_corpus
from fdjpeg import _api, _codec
from test_onepass_huff import crafted, progressive, requantized, with_restarts
from test_simd import scalar_kernels

FD = np.asarray(fdjpeg.tables.feature_distillation(), np.uint16)


@pytest.fixture(autouse=True)
def empty_cache():
    _codec.rq_cache_clear()
    yield
    _codec.rq_cache_clear()


def fresh(data, tables):
    """The decode with every one-pass table built for the call (no cache)."""
    dec = _codec.Decoder(data)
    dec.set_purify(_api._purify_tables(tables, dec.num_components()), cache=False)
    assert dec.rq_tables_attached() == 0
    return dec.decode()


def cached(data, tables):
    """The decode through fdjpeg.decode's path, with the number of tables it was handed."""
    dec = _api._open(data, purify=tables)
    return dec.decode(), dec.rq_tables_attached()


def pairs(data, tables):
    """The distinct (q, T) pairs of a file's components (what the cache is keyed by)."""
    info = _codec.Decoder(data).info()
    tabs = _api._purify_tables(tables, info["num_components"])
    n = len(tabs)
    out = set()
    for c, comp in enumerate(info["components"]):
        t = tabs[0 if n == 1 else (0 if c == 0 else 1) if n == 2 else min(c, n - 1)]
        out.add((comp["qtable"].astype(np.uint16).tobytes(), np.asarray(t, np.uint16).tobytes()))
    return out


def corpus_files(n):
    files = sorted(need_corpus(IMAGENET).glob("*.JPEG"))[:n]
    assert len(files) == n
    return [f.read_bytes() for f in files]


def tables_for_test(rng):
    return [FD,                                                   # the paper's table
            np.full((8, 8), 1, np.uint16),                        # T = 1
            [FD, rng.integers(1, 60, (8, 8)).astype(np.uint16)],  # luma, chroma
            rng.integers(1, 400, (3, 8, 8)).astype(np.uint16),    # one per component
            "q50"]


def test_corpus_cached_equals_fresh():
    """40 ImageNet files x 5 table forms, each pair decoded twice (the second from the cache):
    the same bytes as the per-call build; the cache holds exactly the pairs decoded."""
    rng = np.random.default_rng(1)
    datas = corpus_files(40)
    seen = set()
    for tables in tables_for_test(rng):
        for data in datas:
            want = fresh(data, tables)
            p = pairs(data, tables)
            for _ in range(2):
                got, n = cached(data, tables)
                assert n == len(p)
                np.testing.assert_array_equal(got, want)
            seen |= p
    assert _codec.rq_cache_size() == min(len(seen), _codec.RQ_TABLES_MAX)


def test_corpus_cached_equals_progressive_reference(tmp_path):
    """The independent path: the same files made progressive (lossless, jpegtran) are
    requantized by the row stage, which never uses these tables."""
    for i, data in enumerate(corpus_files(6)):
        path = tmp_path / f"{i}.jpg"
        path.write_bytes(data)
        prog = progressive(path, tmp_path)
        for _ in range(2):
            got, n = cached(data, FD)
            assert n >= 1
            np.testing.assert_array_equal(got, fdjpeg.decode(prog, purify=FD))


def test_generated_files_interleaved(tmp_path):
    """Files of several qualities, subsamplings, grey and CMYK, with several tables, decoded
    in a shuffled interleaving (every pair several times, the cache warm and cold): every
    decode equals the per-call build and the progressive transcode."""
    rng = np.random.default_rng(2)
    files = []
    for i, (mode, quality, sub) in enumerate([("RGB", 30, 2), ("RGB", 75, 0), ("RGB", 95, 1),
                                              ("L", 60, 0), ("CMYK", 80, 0), ("RGB", 75, 2)]):
        img = Image.fromarray(rng.integers(0, 256, (40, 56, len(mode)), dtype=np.uint8)
                              .squeeze(), mode)
        path = tmp_path / f"g{i}.jpg"
        img.save(path, "JPEG", quality=quality, subsampling=sub)
        files.append((path.read_bytes(), progressive(path, tmp_path)))
    tabsets = [FD, rng.integers(1, 30, (8, 8)).astype(np.uint16),
               [FD, np.full((8, 8), 7, np.uint16)]]
    jobs = [(f, t) for f in range(len(files)) for t in range(len(tabsets))] * 3
    random.Random(3).shuffle(jobs)
    want = {}
    for f, t in jobs:
        data, prog = files[f]
        if (f, t) not in want:
            want[f, t] = fresh(data, tabsets[t])
            np.testing.assert_array_equal(want[f, t], fdjpeg.decode(prog, purify=tabsets[t]))
        got, n = cached(data, tabsets[t])
        assert n == len(pairs(data, tabsets[t]))
        np.testing.assert_array_equal(got, want[f, t])


@pytest.mark.parametrize("max_tables", [2, 64])
def test_threads_share_the_cache(monkeypatch, max_tables):
    """Decodes on 4 threads at once, 12 files x 3 tables (~36 pairs), through the shared
    cache; with a bound of 2 tables are dropped while other threads decode with them (the
    decoders' references keep them alive).  Every result equals the sequential per-call
    build."""
    monkeypatch.setattr(_codec, "RQ_TABLES_MAX", max_tables)
    rng = np.random.default_rng(4)
    datas = corpus_files(12)
    tabsets = [FD, rng.integers(1, 80, (8, 8)).astype(np.uint16), "q90"]
    jobs = [(d, t) for d in range(len(datas)) for t in range(len(tabsets))]
    want = {j: fresh(datas[j[0]], tabsets[j[1]]) for j in jobs}
    work = jobs * 4
    random.Random(5).shuffle(work)
    start = threading.Barrier(4)

    def run(part):
        start.wait()
        return [(j, fdjpeg.decode(datas[j[0]], purify=tabsets[j[1]])) for j in part]

    with ThreadPoolExecutor(4) as ex:
        results = [r for rs in ex.map(run, [work[i::4] for i in range(4)]) for r in rs]
    assert len(results) == len(work)
    for j, got in results:
        np.testing.assert_array_equal(got, want[j])
    assert 0 < _codec.rq_cache_size() <= max_tables


def test_cache_bound_and_lru(monkeypatch):
    """At most RQ_TABLES_MAX tables, the least recently used dropped first."""
    data = corpus_files(1)[0]
    assert len(pairs(data, FD)) == 2  # a colour file: luma and chroma tables
    steps = [np.full((8, 8), s, np.uint16) for s in range(1, 71)]
    for t in steps:
        fdjpeg.decode(data, purify=t)
    assert _codec.rq_cache_size() == _codec.RQ_TABLES_MAX == 64
    monkeypatch.setattr(_codec, "RQ_TABLES_MAX", 4)
    _codec.rq_cache_clear()
    fdjpeg.decode(data, purify=steps[0])   # pairs a0, a1
    fdjpeg.decode(data, purify=steps[1])   # b0, b1
    fdjpeg.decode(data, purify=steps[0])   # a used again: b is now the oldest
    fdjpeg.decode(data, purify=steps[2])   # c0, c1 replace b0, b1
    keys = set(_codec._RQ_TABLES)
    assert len(keys) == 4
    want = {q + t for q, t in pairs(data, steps[0]) | pairs(data, steps[2])}
    assert keys == want
    np.testing.assert_array_equal(fdjpeg.decode(data, purify=steps[1]), fresh(data, steps[1]))
    assert _codec.rq_cache_size() == 4


def test_not_attached_where_not_used(tmp_path):
    """Only sequential 8-bit decodes at full size are handed tables (nothing is built for
    progressive, arithmetic, scaled, 12-bit or lossless decodes), and those decode as before."""
    data = corpus_files(1)[0]
    path = tmp_path / "a.jpg"
    path.write_bytes(data)
    prog = progressive(path, tmp_path)
    dec = _api._open(prog, purify=FD)
    assert dec.rq_tables_attached() == 0
    dec = _api._open(data, purify=FD, scale=2)
    assert dec.rq_tables_attached() == 0
    np.testing.assert_array_equal(dec.decode(), fdjpeg.decode(data, purify=FD, scale=2))
    assert _codec.rq_cache_size() == 0
    dec = _api._open(data, purify=FD)
    assert dec.rq_tables_attached() == 2
    dec.set_purify(None)
    assert dec.rq_tables_attached() == 0


def test_hostile_tables_keep_their_fallbacks(tmp_path):
    """T = 1; T = 50,000 on some positions (values outside int16: MCUs redone raw);
    a DC entry outside int16 (T0 = 60,000 at quality 5: the table is unusable and the row
    stage requantizes the whole decode, with or without the cache): cached twice = per-call
    build = progressive transcode, also with restart markers and FDJPEG_SIMD=0."""
    rng = np.random.default_rng(6)
    redo = rng.integers(1, 120, (8, 8)).astype(np.uint16)
    redo[rng.random((8, 8)) < 0.1] = 50000
    redo[0, 0] = 37
    bad_dc = rng.integers(1, 60, (8, 8)).astype(np.uint16)
    bad_dc[0, 0] = 60000
    cases = [(crafted(tmp_path, rng, quality=90, name="one.jpg"), np.ones((8, 8), np.uint16)),
             (crafted(tmp_path, rng, quality=50, name="redo.jpg"), redo),
             (crafted(tmp_path, rng, quality=5, dc_amp=520, name="dc.jpg"), bad_dc)]
    r = requantized(cases[1][0], [redo] * 3)
    assert any((np.abs(x) > 32767).any() for x in r)
    r = requantized(cases[2][0], [bad_dc] * 3)
    assert max(int(np.abs(x[..., 0, 0]).max()) for x in r) > 32767
    for path, t in cases:
        data = path.read_bytes()
        ref = fdjpeg.decode(progressive(path, tmp_path), purify=t)
        for d in (data, with_restarts(path, tmp_path)):
            np.testing.assert_array_equal(fresh(d, t), ref)
            for _ in range(2):
                got, n = cached(d, t)
                assert n >= 1
                np.testing.assert_array_equal(got, ref)
            with scalar_kernels():
                np.testing.assert_array_equal(cached(d, t)[0], ref)
                np.testing.assert_array_equal(fresh(d, t), ref)
    usable = {k: v.usable() for k, v in _codec._RQ_TABLES.items()}
    q_dc = {q for q, t in pairs(cases[2][0].read_bytes(), bad_dc)}
    assert usable and not all(usable.values())
    for k, ok in usable.items():
        assert ok == (k[128:] != bad_dc.tobytes() or k[:128] not in q_dc)


def test_scalar_kernels_cached_equals_fresh():
    """FDJPEG_SIMD=0: the scalar Huffman decoder with cached tables."""
    datas = corpus_files(8)
    with scalar_kernels():
        for data in datas:
            want = fresh(data, FD)
            for _ in range(2):
                np.testing.assert_array_equal(cached(data, FD)[0], want)
    for data in datas:  # the same cached tables with the SIMD kernels
        np.testing.assert_array_equal(cached(data, FD)[0], fresh(data, FD))


def test_zero_entries_still_refused():
    """A T entry of 0 builds nothing and raises the decoder's own ValueError."""
    data = corpus_files(1)[0]
    t = np.array(FD, np.uint16)
    t[3, 3] = 0
    dec = _codec.Decoder(data)
    with pytest.raises(ValueError, match="1..65535"):
        dec.set_purify(t.reshape(1, 64))
    assert _codec.rq_cache_size() == 0


def test_decoder_keeps_the_tables_it_was_handed():
    """A Decoder keeps its tables alive while the C decoder points at them: a refused
    set_purify leaves the previous tables in use (the cache emptied meanwhile, the decode
    still equals the per-call build), and set_purify(None) turns purification off."""
    data = corpus_files(1)[0]
    dec = _codec.Decoder(data)
    dec.set_purify(FD.reshape(1, 64))
    assert dec.rq_tables_attached() == 2
    bad = np.array(FD, np.uint16)
    bad[0, 5] = 0
    with pytest.raises(ValueError):
        dec.set_purify(bad.reshape(1, 64))
    assert dec.rq_tables_attached() == 2
    _codec.rq_cache_clear()
    np.testing.assert_array_equal(dec.decode(), fresh(data, FD))
    dec = _codec.Decoder(data)
    dec.set_purify(FD.reshape(1, 64))
    dec.set_purify(None)
    assert dec.rq_tables_attached() == 0
    np.testing.assert_array_equal(dec.decode(), fdjpeg.decode(data))
