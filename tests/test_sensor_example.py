"""The C sensor-emulator example (csrc/examples/sensor_emulator.c) builds, runs, and writes
exactly what fdjpeg.encode writes for the same frames and table, through the streaming encoder
(strips of any height), from a file or its simulated sensor, and reports its frame rate."""
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import fdjpeg

ROOT = Path(__file__).resolve().parents[1]
CC = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
pytestmark = pytest.mark.skipif(CC is None, reason="no C compiler")


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    exe = tmp_path_factory.mktemp("sensor") / "sensor_emulator"
    srcs = sorted(str(p) for p in (ROOT / "csrc").glob("*.c"))
    subprocess.run([CC, "-O2", "-std=c99", "-Wall", "-Wextra", "-I", str(ROOT / "csrc"),
                    str(ROOT / "csrc" / "examples" / "sensor_emulator.c"), *srcs, "-lm", "-o", str(exe)],
                   check=True)
    return exe


def frames(n=2, h=37, w=53):
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:h, 0:w]
    out = []
    for i in range(n):
        base = 120 + 70 * np.sin((x + 9 * i) / 6.0) * np.cos(y / 8.0)
        out.append(np.clip(base[..., None] + rng.normal(0, 12, (h, w, 3)), 0, 255).astype(np.uint8))
    return out


def write_ppm(path, imgs):
    with open(path, "wb") as f:
        for im in imgs:
            f.write(b"P6\n# frame\n%d %d\n255\n" % (im.shape[1], im.shape[0]))
            f.write(im.tobytes())


def test_default_table_is_the_package_default(emulator, tmp_path):
    imgs = frames()
    write_ppm(tmp_path / "in.ppm", imgs)
    subprocess.run([str(emulator), str(tmp_path / "in.ppm"), str(tmp_path / "f")], check=True)
    T = fdjpeg.tables.feature_distillation()
    for i, im in enumerate(imgs):
        data = (tmp_path / f"f{i:04d}.jpg").read_bytes()
        assert data == fdjpeg.encode(im, T)
        # two-pass identity: purifying with the same table changes nothing
        np.testing.assert_array_equal(fdjpeg.decode(data, purify=T), fdjpeg.decode(data))
    assert not (tmp_path / "f0002.jpg").exists()


def test_table_file_subsampling_and_restarts(emulator, tmp_path):
    imgs = frames(1, 40, 64)
    write_ppm(tmp_path / "in.ppm", imgs)
    T = fdjpeg.tables.feature_distillation(s_md=45, s_as=25, n_as=10)
    (tmp_path / "t.txt").write_text(fdjpeg.tables.to_cjpeg(T))
    subprocess.run([str(emulator), "-t", str(tmp_path / "t.txt"), "-s", "420", "-r", "2",
                    str(tmp_path / "in.ppm"), str(tmp_path / "g")], check=True)
    data = (tmp_path / "g0000.jpg").read_bytes()
    assert data == fdjpeg.encode(imgs[0], T, subsampling="4:2:0", restart_interval=2)
    assert fdjpeg.inspect(data)["restart_interval"] == 2


def test_bad_input_is_reported(emulator, tmp_path):
    (tmp_path / "bad.ppm").write_bytes(b"P5\n2 2\n255\n\0\0\0\0")
    r = subprocess.run([str(emulator), str(tmp_path / "bad.ppm"), str(tmp_path / "x")],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "not an 8-bit binary PPM" in r.stderr
    (tmp_path / "t.txt").write_text("1 2 3")
    r = subprocess.run([str(emulator), "-t", str(tmp_path / "t.txt"), str(tmp_path / "bad.ppm"),
                        str(tmp_path / "x")], capture_output=True, text=True)
    assert r.returncode == 2 and "cannot read 64 table entries" in r.stderr


def read_ppm(path):
    data = path.read_bytes()
    m = re.match(rb"P6\n(\d+) (\d+)\n255\n", data)
    w, h = int(m.group(1)), int(m.group(2))
    return np.frombuffer(data[m.end():], np.uint8).reshape(h, w, 3)


@pytest.mark.parametrize("rows", [1, 7, 16, 100])
def test_strips_of_any_height_write_the_same_bytes(emulator, tmp_path, rows):
    imgs = frames(2, 45, 70)
    write_ppm(tmp_path / "in.ppm", imgs)
    subprocess.run([str(emulator), "-k", str(rows), "-s", "420", "-r", "3", str(tmp_path / "in.ppm"),
                    str(tmp_path / "s")], check=True, capture_output=True)
    T = fdjpeg.tables.feature_distillation()
    for i, im in enumerate(imgs):
        assert (tmp_path / f"s{i:04d}.jpg").read_bytes() == fdjpeg.encode(
            im, T, subsampling="4:2:0", restart_interval=3)


def test_simulated_sensor_loop(emulator, tmp_path):
    r = subprocess.run([str(emulator), "-S", "160x120", "-n", "4", "-k", "8", "-w", "-c",
                        str(tmp_path / "sim")], check=True, capture_output=True, text=True)
    T = fdjpeg.tables.feature_distillation()
    raws = []
    for i in range(4):
        raw = read_ppm(tmp_path / f"sim{i:04d}.ppm")
        raws.append(raw)
        data = (tmp_path / f"sim{i:04d}.jpg").read_bytes()
        assert data == fdjpeg.encode(raw, T)
    assert not np.array_equal(raws[0], raws[1])  # the scene moves
    assert not (tmp_path / "sim0004.jpg").exists()
    out = r.stdout
    assert "4 frames of 160x120, strips of 8 rows" in out
    fps = float(re.search(r"encode: ([0-9.]+) frames/s", out).group(1))
    assert fps > 0
    mem = int(re.search(r"memory: (\d+) bytes of encoder state", out).group(1))
    assert 160 * 50 < mem < 160 * 400 + 100_000  # a few MCU rows of the width, plus fixed state
    assert "check: 4 of 4 frames decode to the same pixels plain and purified" in out
    # without an output prefix the loop only measures
    r = subprocess.run([str(emulator), "-S", "64x48", "-n", "2", "-c"], check=True,
                       capture_output=True, text=True)
    assert "2 frames of 64x48" in r.stdout and "check: 2 of 2" in r.stdout


def test_bad_arguments(emulator, tmp_path):
    for args in (["-S", "0x5", "-n", "1"], ["-S", "8x8"], ["-S", "8x8", "-n", "1", "-k", "0"],
                 ["-q", "a", "b"], ["only_one_arg"], ["-s", "422", "a", "b"]):
        r = subprocess.run([str(emulator), *args], capture_output=True, text=True)
        assert r.returncode == 2 and "usage" in r.stderr, args
    # a frame cut short
    (tmp_path / "short.ppm").write_bytes(b"P6\n4 4\n255\n" + bytes(20))
    r = subprocess.run([str(emulator), str(tmp_path / "short.ppm"), str(tmp_path / "x")],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "short data" in r.stderr
