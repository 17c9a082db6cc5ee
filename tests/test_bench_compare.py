"""bench/compare.py's non-timing logic: section selection, the peers' reduced-size decode
set-up (each contender must decode to the same size, or the ratios compare different work),
peers that refuse a case, and the summary table built from the sections that ran."""
import argparse
import pathlib
import sys

import numpy as np
import pytest

import fdjpeg

sys.path.append(str(pathlib.Path(__file__).resolve().parents[1] / "bench"))  # after tests/: its conftest wins
import compare  # noqa: E402


def test_sections_parse_in_documented_order():
    assert compare.parse_sections("threads,decode") == ["decode", "threads"]
    assert compare.parse_sections("all") == list(compare.SECTIONS)
    assert compare.parse_sections(" scaled , progenc ") == ["scaled", "progenc"]
    for bad in ("decod", "", "decode,nope"):
        with pytest.raises(argparse.ArgumentTypeError, match="choose from"):
            compare.parse_sections(bad)
    # every section is documented in the module docstring that --help prints
    doc = compare.__doc__[compare.__doc__.index("Sections ("):]
    assert all(f"\n  {name} " in doc for name in compare.SECTIONS)


def _photo(h, w, gray=False):
    y, x = np.mgrid[:h, :w]
    rgb = np.stack([x % 256, y % 256, (x * y) % 256], -1).astype(np.uint8)
    return rgb[:, :, 0] if gray else rgb


@pytest.mark.parametrize("gray", [False, True])
@pytest.mark.parametrize("size", [(375, 500), (333, 77), (17, 9)])
def test_scaled_contenders_decode_the_same_size(size, gray):
    data = compare.pil_encode(_photo(*size, gray), quality=90)
    for s in (2, 4, 8):
        ours = fdjpeg.decode(data, scale=s)
        assert ours.shape[:2] == (-(-size[0] // s), -(-size[1] // s))
        np.testing.assert_array_equal(compare.pil_draft(data, s), ours)
        if compare.simplejpeg:
            assert compare.simplejpeg_scaled(data, s).shape[:2] == ours.shape[:2]


def test_refusal_reports_what_was_raised():
    assert compare.refusal(len, b"abc") is None
    why = compare.refusal(compare.pil_decode, b"\xff\xd8not a jpeg")
    assert why and why.split(":")[0].endswith("Error")


def test_summary_tables_only_for_sections_that_ran():
    out = []
    compare.targets({}, out)
    assert out == []
    summary = {"onepass_overhead": 0.02}
    compare.also(summary, "arithmetic decode", {"fdjpeg": 1.0, "simplejpeg": 0.9},
                 {"Pillow": "refuses arithmetic files"})
    compare.also(summary, "scaled", {"fdjpeg": 2.0, "Pillow": 1.0})  # times: fdjpeg twice as slow
    compare.targets(summary, out)
    text = "\n".join(out)
    assert "Targets (issue 7)" in text and "+2.0%" in text
    assert "| arithmetic decode | n/a (refuses arithmetic files) | 0.900 | n/a | Pillow cannot |" in text
    assert "| scaled | 0.500 | n/a | n/a | no |" in text
