"""Type-check the public modules (integrations and library) and every python example of the docs
with mypy; every public callable has annotations and a docstring example, and the library
modules' docstring examples run (doctest).

The package ships ``py.typed``, so a user's type checker reads these annotations; this keeps them
true (and the examples type-correct).  torch and ART are not followed (their types are ``Any``
here): following torch costs ~45 s, and the annotations under test are fdjpeg's.
"""
import pathlib
import re
import subprocess
import sys
import tempfile

import pytest

pytest.importorskip("mypy")

ROOT = pathlib.Path(__file__).resolve().parents[1]
MODULES = ["fdjpeg/__init__.py", "fdjpeg/pillow.py", "fdjpeg/torch.py", "fdjpeg/art.py", "fdjpeg/_pixelrule.py",
           "fdjpeg/tables.py", "fdjpeg/detect.py", "fdjpeg/dask.py", "fdjpeg/errors.py",
           "fdjpeg/_api.py", "fdjpeg/_encode_api.py"]
# library modules whose docstring examples are doctests, run by test_library_docstring_examples_run
LIBRARY_MODULES = ["fdjpeg.tables", "fdjpeg.detect", "fdjpeg.dask", "fdjpeg.errors"]
DOCS = [ROOT / "README.md", ROOT / "docs" / "integrations.md"]

CONFIG = """\
[mypy]
python_version = {major}.{minor}
ignore_missing_imports = True
follow_imports = silent
check_untyped_defs = True
[mypy-torch.*]
follow_imports = skip
[mypy-art.*]
follow_imports = skip
[mypy-dask.*]
follow_imports = skip
[mypy-distributed.*]
follow_imports = skip
"""


def run_mypy(paths, tmp_path):
    cfg = tmp_path / "mypy.ini"
    cfg.write_text(CONFIG.format(major=sys.version_info[0], minor=sys.version_info[1]))
    # a cache kept between runs on one machine (mypy checks it against the sources)
    cache = pathlib.Path(tempfile.gettempdir()) / "fdjpeg-mypy-cache"
    proc = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(cfg), "--cache-dir", str(cache),
                           "--no-error-summary", "--show-error-codes", *map(str, paths)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    return proc


def test_public_modules_and_doc_examples_type_check(tmp_path):
    examples = []
    for doc in DOCS:
        for i, code in enumerate(re.findall(r"```python\n(.*?)```", doc.read_text(encoding="utf-8"), flags=re.S)):
            p = tmp_path / f"{doc.stem}_example_{i}.py"
            p.write_text(code)
            examples.append(p)
    assert len(examples) >= 5
    proc = run_mypy([ROOT / m for m in MODULES] + examples, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_type_checker_catches_misuse(tmp_path):
    """The check can fail: wrong argument types against the public signatures are reported."""
    bad = tmp_path / "misuse.py"
    bad.write_text("import fdjpeg\nimport fdjpeg.pillow\n"
                   "fdjpeg.open(42)\n"
                   "fdjpeg.pillow.register(save='yes')\n"
                   "ok: bool = fdjpeg.pillow.is_registered()\n"
                   "n: int = fdjpeg.pillow.pillow_road(fdjpeg.open('x.jpg'))\n")
    proc = run_mypy([bad], tmp_path)
    assert proc.returncode == 1
    errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
    assert [int(e.split(":")[1]) for e in errors] == [3, 4, 6], proc.stdout


def test_type_checker_catches_misuse_of_library_modules(tmp_path):
    """The library annotations are checked too: wrong types against them are reported."""
    bad = tmp_path / "misuse_lib.py"
    bad.write_text("import numpy as np\nimport fdjpeg.detect, fdjpeg.errors, fdjpeg.tables\n"
                   "fdjpeg.tables.standard('75')\n"
                   "t: str = fdjpeg.tables.default_fd()\n"
                   "ok = fdjpeg.tables.known_table_name(fdjpeg.tables.paper_released())\n"
                   "fdjpeg.tables.from_jpeg(42)\n"
                   "fdjpeg.detect.offgrid_map(np.zeros((8, 8), np.uint8), components=3)\n"
                   "fdjpeg.tables.defensive_step(0.005)\n")
    proc = run_mypy([bad], tmp_path)
    assert proc.returncode == 1
    errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
    assert [int(e.split(":")[1]) for e in errors] == [3, 4, 6, 7], proc.stdout


def _public_names(mod):
    """``__all__`` if the module defines it, else the names it defines that do not start with '_'."""
    if hasattr(mod, "__all__"):
        return list(mod.__all__)
    return [n for n, v in vars(mod).items()
            if not n.startswith("_") and getattr(v, "__module__", None) == mod.__name__]


def _library_modules():
    import importlib

    return [importlib.import_module(m) for m in LIBRARY_MODULES]


def _callables():
    import inspect

    import fdjpeg.art  # noqa: F401 - ART is in the test extra
    import fdjpeg.pillow
    import fdjpeg.torch

    out = []
    for mod in [fdjpeg.pillow, fdjpeg.torch, fdjpeg.art] + _library_modules():
        for name in _public_names(mod):
            obj = getattr(mod, name)
            if inspect.isclass(obj) and not inspect.isfunction(obj.__init__):
                # an exception class keeps OSError's constructor: only its docstring is fdjpeg's
                out.append((f"{mod.__name__}.{name}", obj, None))
            elif inspect.isclass(obj):
                out.append((f"{mod.__name__}.{name}", obj, obj.__init__))
            elif callable(obj) and not inspect.isfunction(obj):  # worker_init: a callable object
                out.append((f"{mod.__name__}.{name}", type(obj), type(obj).__call__))
            elif inspect.isfunction(obj):
                out.append((f"{mod.__name__}.{name}", obj, obj))
    out += [("fdjpeg.open", fdjpeg.open, fdjpeg.open), ("fdjpeg.save", fdjpeg.save, fdjpeg.save)]
    # the codec's own API, as ``import fdjpeg`` shows it (decode, encode, purify, transcode...)
    for name in fdjpeg.__all__:
        obj = getattr(fdjpeg, name)
        if inspect.isfunction(obj) and name not in ("open", "save"):
            out.append((f"fdjpeg.{name}", obj, obj))
    return out


def test_public_callables_have_signatures_annotations_and_examples():
    import inspect

    pytest.importorskip("torch")
    pytest.importorskip("art")
    pytest.importorskip("dask")
    missing = []
    checked = set()
    for name, obj, fn in _callables():
        checked.add(name)
        doc = inspect.getdoc(obj) or ""
        # a short example: an indented code line in the docstring
        if not re.search(r"^ {4,}\S.*[(=]", doc, flags=re.M):
            missing.append(f"{name}: docstring without an example ({doc[:40]!r})")
        if fn is None:
            continue
        sig = inspect.signature(fn)
        for p in list(sig.parameters.values())[(1 if p_is_method(fn) else 0):]:
            if p.annotation is inspect.Parameter.empty:
                missing.append(f"{name}: parameter {p.name} has no annotation")
        if sig.return_annotation is inspect.Signature.empty:
            missing.append(f"{name}: no return annotation")
    assert not missing, "\n".join(missing)
    # the library modules are in the check (a name per module that must be there)
    for name in ("fdjpeg.tables.parse", "fdjpeg.tables.JPEGTables", "fdjpeg.detect.offgrid_score",
                 "fdjpeg.dask.purify_folder", "fdjpeg.errors.NotJPEGError"):
        assert name in checked, name


def test_library_docstring_examples_run(tmp_path, monkeypatch):
    """Every public callable of the library modules has a doctest example, and all of them pass
    (run in an empty folder: the dask examples write files)."""
    import doctest

    pytest.importorskip("dask")
    monkeypatch.chdir(tmp_path)
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    failures, without, attempted = [], [], 0
    for mod in _library_modules():
        tests = {t.name: t for t in finder.find(mod)}
        for name in _public_names(mod):
            test = tests.get(f"{mod.__name__}.{name}")
            if callable(getattr(mod, name)) and (test is None or not test.examples):
                without.append(f"{mod.__name__}.{name}")
        for test in tests.values():
            attempted += runner.run(test, out=failures.append).attempted
    assert not without, f"public callables without a doctest example: {without}"
    assert not failures, "".join(failures)
    assert attempted >= 60


def p_is_method(fn):
    import inspect

    params = list(inspect.signature(fn).parameters)
    return bool(params) and params[0] == "self"


def test_open_and_save_have_real_signatures():
    import inspect

    import fdjpeg
    import fdjpeg.pillow

    assert list(inspect.signature(fdjpeg.open).parameters) == ["fp", "mode", "formats", "purify"]
    assert list(inspect.signature(fdjpeg.save).parameters) == ["im", "fp", "format", "params"]
    for a, b in ((fdjpeg.open, fdjpeg.pillow.open), (fdjpeg.save, fdjpeg.pillow.save)):
        pa, pb = inspect.signature(a).parameters, inspect.signature(b).parameters
        assert [(p.name, p.kind, p.default) for p in pa.values()] == [(p.name, p.kind, p.default) for p in pb.values()]
