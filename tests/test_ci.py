"""CI cannot go green by skipping (issue 13): with FDJPEG_REQUIRE_CORPUS=1 / FDJPEG_REQUIRE_TOOLS=1
(exported by .ci/run) a test whose corpus or tool is missing fails instead of skipping.

Each case runs pytest in a subprocess on a real test of the suite with the corpus hidden
(FDJPEG_CORPUS pointing to an empty folder) or the tools hidden (an empty PATH), once without
the variable (it must skip) and once with it (it must fail)."""
import os
import subprocess
import sys

import pytest

from conftest import REPO


def _pytest(node, env_extra, tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("FDJPEG_REQUIRE_CORPUS", "FDJPEG_REQUIRE_TOOLS", "FDJPEG_CORPUS",
                        "FDJPEG_NO_SKIP")}
    env.update(env_extra)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rsf",
                        node], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    return r.returncode, r.stdout + r.stderr


CASES = [
    # a plain pytest.skip inside the test (hook-converted), found through FDJPEG_CORPUS
    ("tests/test_hardening.py::test_shared_malformed_corpus", "corpus"),
    # a skipif marker evaluated at import, on the corpus path
    ("tests/test_decode.py::test_imagenet_sample_bit_exact", "corpus"),
    # a skip for a missing command-line tool (djpeg) inside the test
    ("tests/test_decode_any.py::test_large_arithmetic_file_matches_djpeg", "tools"),
    # a skipif marker on cjpeg
    ("tests/test_tables.py::test_standard_not_baseline_equals_cjpeg[50]", "tools"),
]


@pytest.mark.parametrize("node,kind", CASES)
def test_missing_corpus_or_tool_fails_when_required(node, kind, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    hide = ({"FDJPEG_CORPUS": str(empty)} if kind == "corpus" else {"PATH": str(empty)})
    var = "FDJPEG_REQUIRE_CORPUS" if kind == "corpus" else "FDJPEG_REQUIRE_TOOLS"

    rc, out = _pytest(node, hide, tmp_path)
    assert rc == 0 and "1 skipped" in out, out[-3000:]

    rc, out = _pytest(node, {**hide, var: "1"}, tmp_path)
    assert rc == 1 and ("1 failed" in out or "1 error" in out) and var in out, out[-3000:]


def test_any_skip_fails_under_no_skip(tmp_path):
    """A test-only dependency that is missing (importorskip) or any other skip: skipped
    normally, a failure with FDJPEG_NO_SKIP=1 (the whole module, and a single test)."""
    tests = REPO / "tests"
    mod = tests / f"test_zz_noskip_probe_{os.getpid()}.py"
    mod.write_text("import pytest\n"
                   "def test_inside():\n"
                   "    pytest.importorskip('fdjpeg_no_such_module_for_this_probe')\n")
    try:
        rc, out = _pytest(str(mod.relative_to(REPO)), {}, tmp_path)
        assert rc == 0 and "1 skipped" in out, out[-3000:]
        rc, out = _pytest(str(mod.relative_to(REPO)), {"FDJPEG_NO_SKIP": "1"}, tmp_path)
        assert rc == 1 and "1 failed" in out and "FDJPEG_NO_SKIP" in out, out[-3000:]
        mod.write_text("import pytest\n"
                       "pytest.importorskip('fdjpeg_no_such_module_for_this_probe')\n"
                       "def test_never():\n    pass\n")
        rc, out = _pytest(str(mod.relative_to(REPO)), {"FDJPEG_NO_SKIP": "1"}, tmp_path)
        assert rc != 0 and "FDJPEG_NO_SKIP" in out, out[-3000:]
    finally:
        mod.unlink()
