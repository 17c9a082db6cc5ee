"""The Dask recipe (fdjpeg.dask): a LocalCluster run equals the serial run, file for file."""
import io
import pathlib

import numpy as np
import pytest
from PIL import Image

import fdjpeg

pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
skdata = pytest.importorskip("skimage.data")

from fdjpeg.dask import purify_file, purify_folder  # noqa: E402

FD = fdjpeg.tables.feature_distillation()


@pytest.fixture
def dataset(tmp_path):
    src = tmp_path / "images"
    (src / "part1").mkdir(parents=True)
    base = skdata.astronaut()
    for i in range(7):
        crop = np.ascontiguousarray(base[40 * i:40 * i + 72, 30 * i:30 * i + 96])
        buf = io.BytesIO()
        Image.fromarray(crop).save(buf, "JPEG", quality=70 + 4 * i, subsampling=i % 3)
        (src / ("part1" if i % 2 else ".") / f"img{i}.jpg").write_bytes(buf.getvalue())
    Image.fromarray(np.ascontiguousarray(base[:50, :60])).save(src / "raw.png")
    (src / "part1" / "zz_broken.jpg").write_bytes(b"\xff\xd8\xff\xdb\x00\x03garbage")
    return src


def _tree(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_local_cluster_equals_serial(dataset, tmp_path):
    serial = purify_folder(dataset, tmp_path / "serial", scheduler="sync")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        clustered = purify_folder(dataset, tmp_path / "cluster", client=client)
    strip = lambda rs, root: [{**r, "output": str(pathlib.Path(r["output"]).relative_to(root))} for r in rs]  # noqa: E731
    assert strip(serial, tmp_path / "serial") == strip(clustered, tmp_path / "cluster")
    assert len(serial) == 9 and sum(not r["ok"] for r in serial) == 1
    assert [r for r in serial if not r["ok"]][0]["input"].endswith("zz_broken.jpg")
    a, b = _tree(tmp_path / "serial"), _tree(tmp_path / "cluster")
    assert a == b and len(a) == 8
    # and each output is what fdjpeg purifies one file to
    for rel, data in a.items():
        src = dataset / rel
        if src.exists():
            np.testing.assert_array_equal(fdjpeg.decode(data), fdjpeg.decode(src.read_bytes(), purify=FD))


def test_threads_and_refusal_to_overwrite(dataset, tmp_path):
    first = purify_folder(dataset, tmp_path / "o", table="fd")
    assert sum(r["ok"] for r in first) == 8
    again = purify_folder(dataset, tmp_path / "o")
    assert all(not r["ok"] for r in again)
    assert sum("exists" in r["error"] for r in again) == 8  # checked before any work is done
    forced = purify_folder(dataset, tmp_path / "o", force=True)
    assert sum(r["ok"] for r in forced) == 8
    r = purify_file(dataset / "nope.jpg", tmp_path / "x.jpg")
    assert not r["ok"] and "FileNotFoundError" in r["error"]


def test_outputs_get_a_plain_files_mode(dataset, tmp_path):
    """Issue 14 finding 3: Dask outputs were 0600 whatever the umask."""
    with open(tmp_path / "plain", "wb"):
        pass
    want = pathlib.Path(tmp_path / "plain").stat().st_mode & 0o777
    results = purify_folder(dataset, tmp_path / "o", scheduler="sync")
    outs = [pathlib.Path(r["output"]) for r in results if r["ok"]]
    assert outs and all(p.stat().st_mode & 0o777 == want for p in outs)
    outs[0].chmod(0o640)
    purify_file(results[0]["input"], outs[0], force=True)
    assert outs[0].stat().st_mode & 0o777 == 0o640


def test_collisions_output_inside_input_and_skip_existing(dataset, tmp_path):
    """Issue 14 finding 4 for Dask: collisions raise before any task, the output tree inside
    the input is never read, skip_existing resumes."""
    out = dataset / "clean"
    first = purify_folder(dataset, out, scheduler="sync")
    assert len(first) == 9
    again = purify_folder(dataset, out, scheduler="sync", skip_existing=True)
    assert len(again) == 9  # clean/ is not an input
    assert sum(bool(r.get("skipped")) for r in again) == 8 and not (out / "clean").exists()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(dataset / "img0.png")
    with pytest.raises(ValueError, match="img0.jpg and .*img0.png"):
        purify_folder(dataset, tmp_path / "other", scheduler="sync")
    assert not (tmp_path / "other").exists()


def test_import_without_dask_names_the_extra():
    import subprocess
    import sys

    code = ("import sys; sys.modules['dask'] = None\n"
            "try:\n    import fdjpeg.dask\nexcept ImportError as e:\n    print('IMPORTERROR', e)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       cwd=pathlib.Path(__file__).resolve().parents[1])
    assert "IMPORTERROR" in r.stdout and 'pip install "fdjpeg[dask]"' in r.stdout, r.stdout + r.stderr
