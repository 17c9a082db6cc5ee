"""Shared test setup: where the corpus is, which external tools exist, and CI strictness.

Many tests compare against files in the shared corpus (``../shared/corpus`` beside the
repository, or ``$FDJPEG_CORPUS``) or against libjpeg-turbo's command-line tools (cjpeg,
djpeg, jpegtran) and clang.  On a developer machine without them those tests skip.  CI must
not be able to go green that way, so:

* ``FDJPEG_REQUIRE_CORPUS=1``: a test that needs the corpus FAILS when it is missing;
* ``FDJPEG_REQUIRE_TOOLS=1``: a test that needs cjpeg/djpeg/jpegtran, clang or a C
  toolchain (cc, make, nm) FAILS when it is missing.

* ``FDJPEG_NO_SKIP=1``: ANY skip fails (a missing test dependency behind ``importorskip``, a
  platform guard): the suite CI runs has no legitimate skip; one that becomes legitimate is
  written as an ``xfail`` with its reason.

``.ci/run`` exports all three.  The check is central: the helpers below fail directly, and the
hook at the end turns any skip whose reason names the corpus or one of those tools into a
failure, so a test written with a plain ``pytest.skip``/``skipif`` is covered as well.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("FDJPEG_CORPUS") or REPO.parent / "shared" / "corpus")
IMAGENET = CORPUS / "imagenet-sample"

REQUIRE_CORPUS = os.environ.get("FDJPEG_REQUIRE_CORPUS", "") not in ("", "0")
REQUIRE_TOOLS = os.environ.get("FDJPEG_REQUIRE_TOOLS", "") not in ("", "0")
NO_SKIP = os.environ.get("FDJPEG_NO_SKIP", "") not in ("", "0")

# a skip reason that names one of these is a missing corpus / a missing tool
_CORPUS_REASON = re.compile(r"corpus|imagenet", re.IGNORECASE)
_TOOL_REASON = re.compile(r"\b(cjpeg|djpeg|jpegtran|libjpeg-turbo-progs|clang|C compiler|"
                          r"cc|make|nm)\b")


def tool(name: str) -> str | None:
    """Path of an external program, or None."""
    return shutil.which(name)


def need_corpus(path: Path = CORPUS) -> Path:
    """``path`` (in the corpus) if it exists; else skip -- or fail under FDJPEG_REQUIRE_CORPUS."""
    if not path.exists():
        msg = f"shared corpus not found at {path}"
        if REQUIRE_CORPUS:
            pytest.fail(f"FDJPEG_REQUIRE_CORPUS=1: {msg}", pytrace=False)
        pytest.skip(msg)
    return path


def need_tool(name: str) -> str:
    """Path of ``name``; else skip -- or fail under FDJPEG_REQUIRE_TOOLS."""
    path = tool(name)
    if path is None:
        msg = f"{name} not installed (apt-get install libjpeg-turbo-progs clang)"
        if REQUIRE_TOOLS:
            pytest.fail(f"FDJPEG_REQUIRE_TOOLS=1: {msg}", pytrace=False)
        pytest.skip(msg)
    return path


def _strict_reason(reason: str) -> str | None:
    if REQUIRE_CORPUS and _CORPUS_REASON.search(reason):
        return "FDJPEG_REQUIRE_CORPUS"
    if REQUIRE_TOOLS and _TOOL_REASON.search(reason):
        return "FDJPEG_REQUIRE_TOOLS"
    if NO_SKIP:
        return "FDJPEG_NO_SKIP"
    return None


def _skip_reason(longrepr) -> str:
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A skip for a missing corpus or tool becomes a failure when CI requires them."""
    outcome = yield
    rep = outcome.get_result()
    if not rep.skipped or hasattr(rep, "wasxfail"):
        return
    reason = _skip_reason(rep.longrepr)
    var = _strict_reason(reason)
    if var:
        rep.outcome = "failed"
        rep.longrepr = f"{var}=1 and this test would have skipped: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """The same for a whole module skipped at import (``allow_module_level``)."""
    outcome = yield
    rep = outcome.get_result()
    if rep.outcome != "skipped":
        return
    reason = _skip_reason(rep.longrepr)
    var = _strict_reason(reason)
    if var:
        rep.outcome = "failed"
        rep.longrepr = f"{var}=1 and this module would have skipped: {reason}"
