"""Type-check the public integration modules and every python example of the docs with mypy.

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
MODULES = ["fdjpeg/__init__.py", "fdjpeg/pillow.py", "fdjpeg/torch.py", "fdjpeg/art.py", "fdjpeg/_pixelrule.py"]
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
