"""The fdjpeg command line on temporary folders: results checked with Pillow and jpeglib."""
import io
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import fdjpeg
from fdjpeg import cli

jpeglib = pytest.importorskip("jpeglib")
skdata = pytest.importorskip("skimage.data")

FD = fdjpeg.tables.feature_distillation()
REPO = pathlib.Path(__file__).resolve().parents[1]


def photos():
    return {
        "astronaut.png": np.ascontiguousarray(skdata.astronaut()[:120, :136]),
        "chelsea.png": np.ascontiguousarray(skdata.chelsea()[:90, :101]),
        "camera.png": np.ascontiguousarray(skdata.camera()[:77, :64]),
    }


def jpeg_of(arr, **kw):
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", **kw)
    return buf.getvalue()


def pillow_requantized(data, table, tmp_path):
    """Independent one-pass reference: jpeglib coefficients requantized in numpy, written with T
    by jpeglib, decoded by Pillow."""
    src = tmp_path / "ref-src.jpg"
    src.write_bytes(data)
    j = jpeglib.read_dct(str(src))
    t = np.asarray(table, np.int64)
    comps = ["Y", "Cb", "Cr"][: len(j.quant_tbl_no)]
    for comp, slot in zip(comps, j.quant_tbl_no):
        d = getattr(j, comp).astype(np.int64) * j.qt[slot].astype(np.int64)
        setattr(j, comp, (np.sign(d) * ((2 * np.abs(d) + t) // (2 * t))).astype(np.int16))
    j.qt = np.stack([t, t][: j.qt.shape[0]]).astype(np.uint16)
    dst = tmp_path / "ref.jpg"
    j.write_dct(str(dst))
    return np.asarray(Image.open(dst)), jpeglib.read_dct(str(dst))


def run(argv, capsys):
    rc = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def folder(tmp_path):
    """A folder of JPEGs (one nested, one broken in the middle) and a PNG."""
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    ph = photos()
    (src / "a_astronaut.jpg").write_bytes(jpeg_of(ph["astronaut.png"], quality=90))
    (src / "b_broken.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00garbage that is not a jpeg")
    (src / "sub" / "c_chelsea.jpg").write_bytes(jpeg_of(ph["chelsea.png"], quality=75, subsampling=1))
    (src / "d_camera.jpg").write_bytes(jpeg_of(ph["camera.png"], quality=60))
    Image.fromarray(ph["astronaut.png"]).save(src / "e_raw.png")
    return src


def test_purify_file_is_lossless_transcode(tmp_path, capsys):
    data = jpeg_of(photos()["astronaut.png"], quality=92)
    src, dst = tmp_path / "in.jpg", tmp_path / "out.jpg"
    src.write_bytes(data)
    rc, out, err = run(["purify", src, dst], capsys)
    assert rc == 0, err
    purified = dst.read_bytes()
    # decodes (by Pillow, an independent decoder) exactly like the one-pass decode
    np.testing.assert_array_equal(np.asarray(Image.open(dst)), fdjpeg.decode(data, purify=[FD]))
    ref_pixels, ref_dct = pillow_requantized(data, FD, tmp_path)
    np.testing.assert_array_equal(np.asarray(Image.open(dst)), ref_pixels)
    got = jpeglib.read_dct(str(dst))
    for comp in ("Y", "Cb", "Cr"):
        np.testing.assert_array_equal(getattr(got, comp), getattr(ref_dct, comp))
    for slot in got.quant_tbl_no:
        np.testing.assert_array_equal(got.qt[slot], FD)
    assert fdjpeg.decode(purified, purify=FD).tobytes() == fdjpeg.decode(purified).tobytes()


CORPUS = REPO.parent / "shared" / "corpus"


def test_purify_transcode_over_the_conformance_corpus():
    """Every conformance file fdjpeg decodes (gray, YCbCr at every sampling, progressive,
    restarts, 16-bit tables, CMYK, RGB): the transcoded file, decoded by Pillow, equals the
    one-pass decode.  YCCK files cannot be written yet and must fail clearly."""
    if not (CORPUS / "conformance").is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    checked = set()
    for path in sorted((CORPUS / "conformance").rglob("*.jpg")):
        data = path.read_bytes()
        try:
            want = fdjpeg.decode(data, purify=FD)
        except (fdjpeg.UnsupportedJPEGError, fdjpeg.NotJPEGError):
            continue
        info = fdjpeg.inspect(data)
        color = info["jpeg_color"]
        if info["lossless"]:  # no DCT coefficients to requantize
            with pytest.raises(fdjpeg.UnsupportedJPEGError):
                cli.transcode_purify(data, FD)
            continue
        if color == "ycck":
            with pytest.raises(ValueError, match="ycck"):
                cli.transcode_purify(data, FD)
            continue
        out = cli.transcode_purify(data, FD)
        np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(out))), want, err_msg=path.name)
        checked.add(color)
    assert checked == {"gray", "ycbcr", "cmyk", "rgb"}


def test_purify_keeps_metadata_unless_stripped(tmp_path, capsys):
    exif = Image.Exif()
    exif[0x0112] = 6
    icc = bytes(range(256)) * 300  # two APP2 chunks
    src = tmp_path / "meta.jpg"
    Image.fromarray(photos()["chelsea.png"]).save(src, "JPEG", exif=exif, icc_profile=icc, comment="c",
                                                  dpi=(240, 240))
    assert run(["purify", src, tmp_path / "kept.jpg"], capsys)[0] == 0
    assert run(["purify", src, tmp_path / "stripped.jpg", "--strip"], capsys)[0] == 0
    orig, kept, stripped = (Image.open(tmp_path / n) for n in ("meta.jpg", "kept.jpg", "stripped.jpg"))
    assert kept.info["icc_profile"] == icc and kept.info["exif"] == orig.info["exif"]
    assert kept.info["comment"] == b"c" and kept.info["dpi"] == (240, 240)
    assert not {"icc_profile", "exif", "comment"} & set(stripped.info)
    np.testing.assert_array_equal(np.asarray(kept), np.asarray(stripped))


def test_purify_folder_with_failure_in_the_middle(folder, tmp_path, capsys):
    out = tmp_path / "out"
    rc, stdout, err = run(["purify", folder, out, "--jobs", "2", "--json"], capsys)
    assert rc == cli.EXIT_FAILED
    report = json.loads(stdout)
    assert report["total"] == 5 and report["ok"] == 4 and report["failed"] == 1
    bad = [f for f in report["files"] if not f["ok"]]
    assert bad[0]["input"].endswith("b_broken.jpg") and "Error" in bad[0]["error"]
    methods = {pathlib.Path(f["input"]).name: f.get("method") for f in report["files"] if f["ok"]}
    assert methods == {"a_astronaut.jpg": "transcode", "c_chelsea.jpg": "transcode",
                       "d_camera.jpg": "transcode", "e_raw.png": "encode"}
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "a_astronaut.jpg", "d_camera.jpg", "e_raw.jpg", "sub/c_chelsea.jpg"]
    for name in ("a_astronaut.jpg", "sub/c_chelsea.jpg", "d_camera.jpg"):
        data = (folder / name).read_bytes()
        np.testing.assert_array_equal(np.asarray(Image.open(out / name)), fdjpeg.decode(data, purify=FD))
    # a non-JPEG input is encoded with T (two-pass sensor side), 4:4:4
    raw = photos()["astronaut.png"]
    buf = io.BytesIO()
    Image.fromarray(raw).save(buf, "JPEG", qtables=[FD.ravel().tolist()] * 2, subsampling=0)
    np.testing.assert_array_equal(np.asarray(Image.open(out / "e_raw.jpg")), np.asarray(Image.open(buf)))
    # the human-readable report names the failure at the end
    rc, stdout, err = run(["purify", folder, tmp_path / "out2", "--no-progress"], capsys)
    assert rc == 1 and "1 of 5 files failed" in err and "b_broken.jpg" in err


def test_never_overwrites_without_force(tmp_path, capsys):
    src, dst = tmp_path / "a.jpg", tmp_path / "b.jpg"
    src.write_bytes(jpeg_of(photos()["camera.png"]))
    dst.write_bytes(b"precious")
    rc, _, err = run(["purify", src, dst], capsys)
    assert rc == cli.EXIT_FAILED and "exists" in err and "--force" in err
    assert dst.read_bytes() == b"precious"
    rc, _, err = run(["purify", src, dst, "--force"], capsys)
    assert rc == 0 and dst.read_bytes()[:2] == b"\xff\xd8"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_write_atomic_leaves_nothing_on_failure(tmp_path, monkeypatch):
    dst = tmp_path / "x.bin"
    dst.write_bytes(b"old")

    def boom(src, dst_):
        raise OSError("disk full")

    monkeypatch.setattr(cli.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        cli.write_atomic(dst, b"new", force=True)
    assert dst.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.bin"]


def test_encode(tmp_path, capsys):
    arr = photos()["chelsea.png"]
    src = tmp_path / "c.png"
    Image.fromarray(arr).save(src)
    rc, _, err = run(["encode", src, tmp_path / "c.jpg"], capsys)
    assert rc == 0, err
    j = jpeglib.read_dct(str(tmp_path / "c.jpg"))
    for slot in j.quant_tbl_no:
        np.testing.assert_array_equal(j.qt[slot], FD)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "c.jpg")), fdjpeg.purify(arr, FD))
    np.save(tmp_path / "n.npy", arr)
    rc, _, err = run(["encode", tmp_path / "n.npy", tmp_path / "q.jpg", "--quality", "75",
                      "--subsampling", "4:2:0"], capsys)
    assert rc == 0, err
    Image.fromarray(arr).save(tmp_path / "pillow.jpg", "JPEG", quality=75)
    ours, ref = jpeglib.read_dct(str(tmp_path / "q.jpg")), jpeglib.read_dct(str(tmp_path / "pillow.jpg"))
    np.testing.assert_array_equal(ours.Y, ref.Y)
    np.testing.assert_array_equal(ours.Cb, ref.Cb)


def test_decode(tmp_path, capsys, folder):
    data = (folder / "a_astronaut.jpg").read_bytes()
    rc, _, err = run(["decode", folder / "a_astronaut.jpg", tmp_path / "a.png", "--purify", "fd"], capsys)
    assert rc == 0, err
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "a.png")), fdjpeg.decode(data, purify=FD))
    rc, _, err = run(["decode", folder / "a_astronaut.jpg", tmp_path / "a.npy"], capsys)
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), np.asarray(Image.open(io.BytesIO(data))))
    rc, out, err = run(["decode", folder, tmp_path / "dec", "--format", "npy", "--json", "-j", "2"], capsys)
    assert rc == 1
    assert sorted(p.name for p in (tmp_path / "dec").rglob("*.npy")) == ["a_astronaut.npy", "c_chelsea.npy",
                                                                         "d_camera.npy"]


def test_inspect(tmp_path, capsys):
    arr = photos()["astronaut.png"]
    plain = tmp_path / "plain.jpg"
    plain.write_bytes(jpeg_of(arr, quality=75, progressive=True, restart_marker_blocks=4))
    fd = tmp_path / "fd.jpg"
    fd.write_bytes(fdjpeg.encode(arr, FD))
    rc, out, err = run(["inspect", plain, "--json"], capsys)
    assert rc == 0, err
    rep = json.loads(out)
    ref = Image.open(plain)
    assert (rep["width"], rep["height"]) == ref.size and rep["progressive"] is True
    assert rep["sampling"] == "4:2:0" and rep["restart_interval"] == 4 and rep["fd_table"] is False
    assert {int(k): sum(v["table"], []) for k, v in rep["qtables"].items()} == ref.quantization
    assert "quality 75" in rep["qtables"]["0"]["known"]
    assert [m["marker"] for m in rep["markers"]][:3] == ["SOI", "APP0", "DQT"]
    rc, out, err = run(["inspect", fd], capsys)
    assert rc == 0 and "FD table: yes" in out and "4:4:4" in out and "default FD table" in out
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"nope")
    rc, out, err = run(["inspect", bad], capsys)
    assert rc == 1 and "bad.jpg" in err


def test_inspect_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    fd = tmp_path / "fd.jpg"
    fd.write_bytes(fdjpeg.encode(photos()["astronaut.png"], FD))
    rc, out, err = run(["inspect", fd, "--plot", tmp_path / "heat.png"], capsys)
    assert rc == 0, err
    heat = Image.open(tmp_path / "heat.png")
    assert heat.format == "PNG" and heat.size[0] > heat.size[1] > 100
    # an existing plot is not overwritten without --force
    rc, out, err = run(["inspect", fd, "--plot", tmp_path / "heat.png"], capsys)
    assert rc == 1 and "exists" in err
    assert run(["inspect", fd, "--plot", tmp_path / "heat.png", "--force"], capsys)[0] == 0


def test_tables(tmp_path, capsys):
    rc, out, _ = run(["tables", "show", "fd", "--format", "json"], capsys)
    assert rc == 0
    np.testing.assert_array_equal(fdjpeg.tables.from_json(out)[0], FD)
    rc, out, _ = run(["tables", "show", "q50", "--format", "cjpeg"], capsys)
    tabs = fdjpeg.tables.from_cjpeg(out)
    buf = io.BytesIO()
    Image.fromarray(photos()["camera.png"]).convert("RGB").save(buf, "JPEG", quality=50)
    q = Image.open(buf).quantization
    assert [t.ravel().tolist() for t in tabs] == [q[0], q[1]]
    rc, _, _ = run(["tables", "show", "fd", "-o", tmp_path / "t.json"], capsys)
    rc, out, _ = run(["tables", "show", tmp_path / "t.json", "--format", "json"], capsys)
    np.testing.assert_array_equal(fdjpeg.tables.from_json(out)[0], FD)  # a table file is a spec too
    pics = tmp_path / "pics"
    pics.mkdir()
    for name, arr in photos().items():
        Image.fromarray(arr).save(pics / name)
    rc, out, err = run(["tables", "design", pics, "--n-as", "10", "--s-as", "15", "--s-md", "40",
                        "--format", "json"], capsys)
    assert rc == 0, err
    sigma = fdjpeg.tables.band_std(list(photos().values()))
    want = fdjpeg.tables.feature_distillation(sigma, s_md=40, s_as=15, n_as=10)
    np.testing.assert_array_equal(fdjpeg.tables.from_json(out)[0], want)
    assert (want == 15).sum() == 10


def test_usage_errors_and_exit_codes(tmp_path, capsys):
    assert run(["purify", tmp_path / "missing.jpg", tmp_path / "o.jpg"], capsys)[0] == cli.EXIT_USAGE
    assert run(["purify", tmp_path, tmp_path / "o", "--table", "nonsense"], capsys)[0] == cli.EXIT_USAGE
    assert run(["bogus-command"], capsys)[0] == cli.EXIT_USAGE
    assert run(["purify", tmp_path, tmp_path / "o", "--jobs", "0"], capsys)[0] == cli.EXIT_USAGE
    (tmp_path / "empty").mkdir()
    assert run(["purify", tmp_path / "empty", tmp_path / "o"], capsys)[0] == cli.EXIT_NO_INPUT
    assert run(["--version"], capsys)[0] == 0


def test_eval_delegates(monkeypatch, capsys):
    import types

    seen = []
    import fdjpeg.eval

    fake = types.ModuleType("fdjpeg.eval.run")
    fake.main = lambda argv: seen.append(argv) or 0
    monkeypatch.setitem(sys.modules, "fdjpeg.eval.run", fake)
    monkeypatch.setattr(fdjpeg.eval, "run", fake, raising=False)
    assert cli.main(["eval", "--defenses", "fd1p", "--n", "3"]) == 0
    assert seen == [["--defenses", "fd1p", "--n", "3"]]

    def exits(argv):
        raise SystemExit(2)

    fake.main = exits
    assert cli.main(["eval", "--bogus"]) == 2


def test_progress_bar_on_folders(folder, tmp_path):
    """Through the real entry point (python -m fdjpeg) in a subprocess."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "fdjpeg", "purify", str(folder), str(tmp_path / "o")],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 1
    assert "5/5" in proc.stderr  # tqdm (or the fallback bar) counted every file
    assert "b_broken.jpg" in proc.stderr
