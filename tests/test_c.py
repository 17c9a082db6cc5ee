"""The C library on its own: build it with csrc/Makefile into a temporary
directory, run the C unit tests (csrc/tests/test_codec.c, references from
Pillow and jpeglib), install it with PREFIX and link a program against the
installed header and library.  Skips cleanly when there is no C compiler or
make.  Set FDJPEG_C_SANITIZE=1 to run the unit tests under ASan/UBSan/LSan.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CSRC = ROOT / "csrc"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the C build uses make and a POSIX cc")


def _tool(name):
    return shutil.which(name)


def _cc():
    cc = os.environ.get("CC") or _tool("cc") or _tool("gcc") or _tool("clang")
    if not cc or not _tool("make"):
        pytest.skip("no C compiler or make on this machine")
    return cc


def _make(build, *targets, env_extra=None, timeout=600):
    env = dict(os.environ, CC=_cc())
    env.pop("CFLAGS", None)
    env.update(env_extra or {})
    cmd = ["make", "-C", str(CSRC), f"BUILD={build}", *targets]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cbuild")


def test_c_unit_tests_pass(build_dir):
    extra = {"SAN": "1"} if os.environ.get("FDJPEG_C_SANITIZE") == "1" else {}
    r = _make(build_dir, "test", env_extra=extra)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    summary = [line for line in out.splitlines() if "C unit tests:" in line]
    assert summary, out[-2000:]
    # "fdjpeg X C unit tests: N checks, 0 failed" -- and a real number of checks ran
    words = summary[-1].split()
    checks = int(words[words.index("checks,") - 1])
    failed = int(words[words.index("failed") - 1])
    assert failed == 0 and checks > 300, summary[-1]


def test_c_build_is_warning_free(build_dir, tmp_path):
    r = _make(tmp_path / "w", "all")
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    warnings = [line for line in (r.stdout + r.stderr).splitlines() if "warning:" in line]
    assert not warnings, "\n".join(warnings[:20])
    for name in ("libfdjpeg.a", "libfdjpeg.so"):
        assert (tmp_path / "w" / name).exists()


def test_install_and_link_a_c_program(tmp_path):
    build, prefix = tmp_path / "b", tmp_path / "prefix"
    r = _make(build, "install", f"PREFIX={prefix}")
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    header = prefix / "include" / "fdjpeg.h"
    assert header.read_bytes() == (CSRC / "fdjpeg.h").read_bytes()
    assert (prefix / "lib" / "libfdjpeg.a").exists()
    assert (prefix / "lib" / "libfdjpeg.so").exists()
    pc = (prefix / "lib" / "pkgconfig" / "fdjpeg.pc").read_text()
    assert f"prefix={prefix}" in pc and "-lfdjpeg" in pc
    # a user program: encode a gradient, decode it, print size and version
    prog = tmp_path / "user.c"
    prog.write_text(
        r"""
#include <stdio.h>
#include <stdlib.h>
#include <fdjpeg.h>
int main(void) {
    enum { W = 20, H = 12 };
    static unsigned char px[W * H];
    fdj_encode_params p; unsigned char *jpg = NULL, out[W * H]; size_t n = 0; char msg[FDJ_MSG_SIZE];
    int i, st, h, w, c;
    for (i = 0; i < W * H; i++) px[i] = (unsigned char)(i * 3);
    fdj_encode_params_init(&p); p.width = W; p.height = H; p.in_color = FDJ_IN_GRAY; p.num_qtables = 1;
    fdj_quality_table(90, 0, 1, p.qtable[0]);
    st = fdj_encode(&p, px, W, 1, 1, &jpg, &n, msg);
    if (st) { printf("encode: %s\n", msg); return 1; }
    fdj_decoder *d = fdj_decoder_new();
    st = fdj_decoder_open(d, jpg, n, NULL);
    if (!st) st = fdj_decoder_output_shape(d, &h, &w, &c);
    if (!st) st = fdj_decoder_decode(d, out, W);
    printf("%s %d %d %d %d %zu\n", fdj_version(), st, w, h, c, n);
    fdj_decoder_free(d); fdj_free(jpg);
    return st != 0;
}
"""
    )
    exe = tmp_path / "user"
    r = subprocess.run(
        [_cc(), "-std=c99", "-Wall", "-Wextra", "-Werror", f"-I{prefix / 'include'}", str(prog),
         str(prefix / "lib" / "libfdjpeg.a"), "-lm", "-o", str(exe)],
        capture_output=True, text=True, timeout=120,
    )
    assert r.returncode == 0, r.stderr
    r = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    version = (CSRC / "fdjpeg.h").read_text().split('FDJ_VERSION_STRING "')[1].split('"')[0]
    fields = r.stdout.split()
    assert fields[:5] == [version, "0", "20", "12", "1"]
    # and the shared library resolves through its soname
    exe_so = tmp_path / "user_so"
    r = subprocess.run(
        [_cc(), f"-I{prefix / 'include'}", str(prog), f"-L{prefix / 'lib'}", "-lfdjpeg", "-lm",
         "-o", str(exe_so)], capture_output=True, text=True, timeout=120,
    )
    assert r.returncode == 0, r.stderr
    r = subprocess.run([str(exe_so)], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, LD_LIBRARY_PATH=str(prefix / "lib")))
    assert r.returncode == 0 and r.stdout.split()[:5] == fields[:5], r.stdout + r.stderr


def test_no_mutable_global_state(build_dir):
    """Thread safety by construction: no object file of the library has writable
    global or static data (nm symbol types B/b bss, D/d data, C common) --
    only read-only tables."""
    if not _tool("nm"):
        pytest.skip("no nm on this machine")
    objs = sorted((build_dir / "obj").glob("*.o"))
    if not objs:
        r = _make(build_dir, "static")
        assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
        objs = sorted((build_dir / "obj").glob("*.o"))
    assert len(objs) == len(list(CSRC.glob("*.c")))
    r = subprocess.run(["nm", *map(str, objs)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    writable = [line for line in r.stdout.splitlines()
                if len(line.split()) >= 3 and line.split()[-2] in ("B", "b", "D", "d", "C")]
    assert not writable, "\n".join(writable[:20])
