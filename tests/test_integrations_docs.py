"""Run every ```python block of README.md and docs/integrations.md, so the examples stay true."""
import pathlib
import re

import numpy as np
import pytest
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "docs" / "integrations.md"]
skdata = pytest.importorskip("skimage.data")


def blocks():
    out = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        out += [(doc.name, code) for code in re.findall(r"```python\n(.*?)```", text, flags=re.S)]
    return out


def needs(code):
    mods = []
    if "torch" in code:
        mods.append("torch")
    if "art." in code:
        mods.append("art")
    if "dask" in code:
        mods += ["dask", "distributed"]
    if "pydicom" in code:
        mods.append("pydicom")
    return mods


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    img = np.ascontiguousarray(skdata.chelsea()[:120, :160])
    Image.fromarray(img).save(tmp_path / "photo.jpg", "JPEG", quality=85)
    Image.fromarray(img).save(tmp_path / "raw.png")
    (tmp_path / "images").mkdir()
    for i in range(3):
        Image.fromarray(np.ascontiguousarray(img[:, 10 * i:10 * i + 100])).save(tmp_path / "images" / f"{i}.jpg")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_doc_has_examples():
    assert len(blocks()) >= 5


@pytest.mark.parametrize("index", range(len(blocks())))
def test_doc_block_runs(index, workdir):
    name, code = blocks()[index]
    for mod in needs(code):
        pytest.importorskip(mod)
    try:
        exec(compile(code, f"{name}[block {index}]", "exec"), {"__name__": "__docs__"})
    finally:
        import fdjpeg.pillow

        fdjpeg.pillow.unregister()
