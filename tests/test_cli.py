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


from conftest import CORPUS  # noqa: E402  (FDJPEG_CORPUS or ../shared/corpus)


def test_purify_transcode_over_the_conformance_corpus():
    """Every conformance file fdjpeg decodes (gray, YCbCr at every sampling, progressive,
    restarts, 16-bit tables, CMYK, RGB): the transcoded file, decoded by Pillow, equals the
    one-pass decode -- YCCK included (it failed with a ValueError before, issue 14 finding 5)."""
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
        out = cli.transcode_purify(data, FD)
        np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(out))), want, err_msg=path.name)
        checked.add(color)
    assert checked == {"gray", "ycbcr", "cmyk", "rgb", "ycck"}


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
    """Through the real entry point (python -m fdjpeg) in a subprocess: the bar is drawn when
    stderr is a terminal (a pty here), and never into a pipe or a log file (issue 14)."""
    import pty

    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "fdjpeg", "purify", str(folder)]
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    # a real terminal has a size (a fresh pty reports 0 x 0, which tqdm draws nothing into)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(cmd + [str(tmp_path / "o")], stdout=subprocess.PIPE,
                            stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    proc.communicate(timeout=300)
    tty_err = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 1
    assert "5/5" in tty_err  # tqdm (or the fallback bar) counted every file
    assert "b_broken.jpg" in tty_err

    piped = subprocess.run(cmd + [str(tmp_path / "o2")], capture_output=True, text=True, env=env,
                           timeout=300)
    assert piped.returncode == 1 and "b_broken.jpg" in piped.stderr
    assert "5/5" not in piped.stderr and "\r" not in piped.stderr
    assert piped.stdout.strip().splitlines()[-1] == "fdjpeg purify: 4 written, 0 skipped, 1 failed"


def test_lossless_jpeg_in_the_cli(tmp_path, capsys):
    """Issue 14 finding 5: a lossless JPEG failed in the CLI with advice that contradicted
    decode's.  Now `purify` encodes its (exact) pixels with T, and `decode --purify` purifies
    the decoded pixels -- what decode's error message advises -- both checked against
    Pillow's decode of the lossless file run through fdjpeg.purify."""
    from conftest import need_corpus

    src = need_corpus(CORPUS / "conformance" / "lossless" / "1" / "jpeg_lossless_sel1-8bit.jpg")
    pixels = np.asarray(Image.open(src))
    want = fdjpeg.purify(pixels, FD)
    rc, out, err = run(["purify", src, tmp_path / "p.jpg"], capsys)
    assert rc == 0, err
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "p.jpg")), want)
    rc, out, err = run(["decode", src, tmp_path / "d.png", "--purify", "fd"], capsys)
    assert rc == 0, err
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "d.png")), want)
    with pytest.raises(fdjpeg.UnsupportedJPEGError, match=r"fdjpeg\.purify\(pixels, table\)"):
        fdjpeg.decode(src.read_bytes(), purify=FD)


# ---------------------------------------------------------------- issue 14: the CLI a user lives with

def _mode(path):
    return os.stat(path).st_mode & 0o777


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    try:
        yield 0o027
    finally:
        os.umask(old)


def test_outputs_get_a_plain_files_mode_and_keep_an_overwritten_ones(tmp_path, capsys):
    """Finding 3: outputs were 0600 whatever the umask.  Now 0666 & ~umask (what open(path,
    "wb") gives: checked against a file made that way), and a replaced file keeps its mode."""
    src = tmp_path / "in.jpg"
    src.write_bytes(jpeg_of(photos()["camera.png"], quality=80))
    with open(tmp_path / "plain", "wb"):
        pass
    want = _mode(tmp_path / "plain")
    assert run(["purify", src, tmp_path / "a.jpg"], capsys)[0] == 0
    assert run(["decode", src, tmp_path / "a.png"], capsys)[0] == 0
    assert _mode(tmp_path / "a.jpg") == want and _mode(tmp_path / "a.png") == want
    os.chmod(tmp_path / "a.jpg", 0o640)
    assert run(["purify", src, tmp_path / "a.jpg", "--force", "--table", "q50"], capsys)[0] == 0
    assert _mode(tmp_path / "a.jpg") == 0o640


def test_mode_follows_the_umask_at_start(tmp_path):
    """The umask is read when fdjpeg starts: a CLI run under umask 027 writes 0640."""
    src = tmp_path / "in.jpg"
    src.write_bytes(jpeg_of(photos()["camera.png"], quality=80))
    env = dict(os.environ, PYTHONPATH=str(REPO))
    code = "import os, sys; os.umask(0o027); from fdjpeg import cli; sys.exit(cli.main(sys.argv[1:]))"
    r = subprocess.run([sys.executable, "-c", code, "purify", str(src), str(tmp_path / "o.jpg")],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert _mode(tmp_path / "o.jpg") == 0o640


def test_folder_collisions_are_refused_before_anything_is_written(tmp_path, capsys):
    """Finding 4: a.jpg and a.png both map to a.jpg; with --force one was lost (rc 0)."""
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.jpg").write_bytes(jpeg_of(photos()["camera.png"]))
    Image.fromarray(photos()["chelsea.png"]).save(src / "a.png")
    (src / "b.jpg").write_bytes(jpeg_of(photos()["camera.png"]))
    for extra in ([], ["--force"]):
        rc, out, err = run(["purify", src, tmp_path / "out", *extra], capsys)
        assert rc == cli.EXIT_USAGE
        assert "a.jpg" in err and "a.png" in err and "same output" in err
        assert not (tmp_path / "out").exists()


def test_output_inside_input_is_never_read_and_skip_existing_resumes(folder, tmp_path, capsys):
    """Finding 4: an output folder inside the input folder was walked again (clean/clean/);
    --skip-existing resumes a partial run and exits 0 when every output exists."""
    (folder / "b_broken.jpg").unlink()
    out = folder / "clean"
    rc, stdout, err = run(["purify", folder, out], capsys)
    assert rc == 0, err
    assert stdout.strip().splitlines()[-1] == "fdjpeg purify: 4 written, 0 skipped, 0 failed"
    made = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert made == ["a_astronaut.jpg", "d_camera.jpg", "e_raw.jpg", "sub/c_chelsea.jpg"]
    first = (out / "d_camera.jpg").read_bytes()
    (out / "d_camera.jpg").unlink()
    rc, stdout, err = run(["purify", folder, out, "--skip-existing"], capsys)
    assert rc == 0, err
    assert stdout.strip().splitlines()[-1] == "fdjpeg purify: 1 written, 3 skipped, 0 failed"
    assert (out / "d_camera.jpg").read_bytes() == first
    assert not (out / "clean").exists()
    rc, stdout, err = run(["purify", folder, out, "--skip-existing"], capsys)
    assert rc == 0 and "0 written, 4 skipped, 0 failed" in stdout
    rc, _, err = run(["purify", folder, out], capsys)  # without it: every file is refused
    assert rc == cli.EXIT_FAILED and "exists" in err
    rc, _, err = run(["purify", folder, out, "--skip-existing", "--force"], capsys)
    assert rc == cli.EXIT_USAGE


def test_verbose_lists_files_and_the_summary_counts(folder, tmp_path, capsys):
    rc, stdout, err = run(["purify", folder, tmp_path / "o"], capsys)
    assert rc == 1
    assert "->" not in stdout
    assert stdout.strip().splitlines() == ["fdjpeg purify: 4 written, 0 skipped, 1 failed"]
    rc, stdout, err = run(["purify", folder, tmp_path / "o2", "--verbose"], capsys)
    assert stdout.count(" -> ") == 4 and stdout.strip().endswith("4 written, 0 skipped, 1 failed")
    rc, stdout, err = run(["purify", folder, tmp_path / "o3", "--quiet"], capsys)
    assert stdout == "" and "b_broken.jpg" in err


def test_decode_purify_without_a_value_is_the_default_table(tmp_path, capsys):
    data = jpeg_of(photos()["chelsea.png"], quality=85)
    (tmp_path / "x.jpg").write_bytes(data)
    rc, _, err = run(["decode", tmp_path / "x.jpg", tmp_path / "x.png", "--purify"], capsys)
    assert rc == 0, err
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "x.png")),
                                  fdjpeg.decode(data, purify=True))
    # --purify followed by the positional arguments still parses
    rc, _, err = run(["decode", "--purify", "q50", tmp_path / "x.jpg", tmp_path / "y.png"], capsys)
    assert rc == 0, err
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "y.png")),
                                  fdjpeg.decode(data, purify="q50"))


def test_output_format_follows_the_output_name(tmp_path, capsys):
    """JPEG bytes never go into out.png: purify writes the purified pixels as PNG, encode
    refuses a pixel-format name, decode refuses a JPEG name; nothing is written then."""
    data = jpeg_of(photos()["chelsea.png"], quality=85)
    (tmp_path / "x.jpg").write_bytes(data)
    Image.fromarray(photos()["camera.png"]).save(tmp_path / "raw.png")
    rc, _, err = run(["purify", tmp_path / "x.jpg", tmp_path / "p.png"], capsys)
    assert rc == 0, err
    with Image.open(tmp_path / "p.png") as im:
        assert im.format == "PNG"
        np.testing.assert_array_equal(np.asarray(im), fdjpeg.decode(data, purify=True))
    rc, _, err = run(["purify", tmp_path / "raw.png", tmp_path / "r.npy"], capsys)
    assert rc == 0, err
    np.testing.assert_array_equal(np.load(tmp_path / "r.npy"),
                                  fdjpeg.purify(photos()["camera.png"], True))
    rc, _, err = run(["encode", tmp_path / "raw.png", tmp_path / "e.png"], capsys)
    assert rc == cli.EXIT_USAGE and ".jpg name" in err and not (tmp_path / "e.png").exists()
    rc, _, err = run(["decode", tmp_path / "x.jpg", tmp_path / "d.jpg"], capsys)
    assert rc == cli.EXIT_USAGE and not (tmp_path / "d.jpg").exists()
    rc, _, err = run(["purify", tmp_path / "x.jpg", tmp_path / "noext"], capsys)
    assert rc == cli.EXIT_USAGE and "format follows the name" in err


@pytest.mark.parametrize("command", ["encode", "decode", "purify", "inspect", "tables show",
                                     "tables design"])
def test_every_subcommand_help_has_description_defaults_and_examples(command, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.build_parser().parse_args(command.split() + ["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    head, _, rest = text.partition("\n\n")
    description = rest.split("\n\n")[0]
    assert len(description.split()) >= 5, text
    examples = text.split("examples:\n", 1)[1].strip().splitlines()
    assert len(examples) == 2 and all(e.strip().startswith("fdjpeg " + command.split()[0])
                                      for e in examples), text
    if command not in ("inspect",):
        assert "(default: " in text, text


def test_inspect_text_shows_metadata_and_flags_damage(tmp_path, capsys):
    exif = Image.Exif()
    exif[0x0112] = 3
    path = tmp_path / "meta.jpg"
    Image.fromarray(photos()["chelsea.png"]).save(path, "JPEG", exif=exif, icc_profile=b"\0" * 700,
                                                  comment="shot by me", dpi=(300, 300))
    info = Image.open(path).info
    rc, out, err = run(["inspect", path], capsys)
    assert rc == 0, err
    assert f"EXIF {len(info['exif'])} bytes" in out and "ICC 700 bytes" in out and "XMP none" in out
    assert "dpi: 300 x 300" in out and "comment: 'shot by me' (10 bytes)" in out
    assert "FD table: no" in out and "DAMAGED" not in out
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(path.read_bytes()[:-400])
    rc, out, err = run(["inspect", cut], capsys)
    assert rc == cli.EXIT_FAILED
    assert "DAMAGED: TruncatedJPEGError" in out and "cut.jpg: damaged" in err
    rc, out, err = run(["inspect", cut, "--json"], capsys)
    assert rc == cli.EXIT_FAILED and json.loads(out)["damaged"].startswith("TruncatedJPEGError")
    assert json.loads(run(["inspect", path, "--json"], capsys)[1])["damaged"] is None


def test_purify_ycck_in_the_cli(tmp_path, capsys):
    """Finding 5: `fdjpeg purify ycck.jpg out.jpg` failed with a ValueError."""
    from conftest import need_corpus

    src = need_corpus(CORPUS / "conformance" / "ycck.jpg")
    rc, _, err = run(["purify", src, tmp_path / "o.jpg"], capsys)
    assert rc == 0, err
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "o.jpg")),
                                  fdjpeg.decode(src.read_bytes(), purify=True))
