"""fdjpeg as a pydicom 3 pixel-data decoder plugin, on the DICOM files pydicom's package ships.

References: pydicom's own Pillow plugin where it decodes (8-bit JPEG Baseline/Extended),
and libjpeg-turbo 3 (imagecodecs.jpeg8_decode) on every frame of the 12-bit and lossless
files, which no other installed plugin decodes.
"""
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

import fdjpeg

pydicom = pytest.importorskip("pydicom")
imagecodecs = pytest.importorskip("imagecodecs")

from pydicom import dcmread  # noqa: E402
from pydicom.encaps import generate_frames  # noqa: E402

import fdjpeg.pydicom as fdp  # noqa: E402

TEST_FILES = Path(os.path.dirname(pydicom.data.__file__)) / "test_files"


def jpeg_datasets():
    """(path, dataset) of every shipped DICOM file in a JPEG syntax fdjpeg's plugin takes."""
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in sorted(TEST_FILES.rglob("*.dcm")):
            try:
                ds = dcmread(path)
                ts = str(ds.file_meta.TransferSyntaxUID)
                ds.PixelData  # noqa: B018 (some files have none)
            except Exception:
                continue
            if ts in fdp._UIDS:
                out.append((path, ds))
    return out


@pytest.fixture(scope="module")
def registered():
    fdp.register()
    yield
    fdp.unregister()


def pixels(ds, plugin, **opts):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.pixel_array_options(decoding_plugin=plugin, **opts)
        try:
            return ds.pixel_array
        finally:
            ds.pixel_array_options(decoding_plugin="")


def frames(ds):
    n = int(ds.get("NumberOfFrames", 1) or 1)
    return list(generate_frames(ds.PixelData, number_of_frames=n))


def test_register_and_unregister():
    from pydicom.pixels.decoders.base import get_decoder

    fdp.register()
    try:
        for uid in fdp._UIDS:
            assert "fdjpeg" in get_decoder(pydicom.uid.UID(uid)).available_plugins
        fdp.register()  # idempotent
    finally:
        fdp.unregister()
    for uid in fdp._UIDS:
        assert "fdjpeg" not in get_decoder(pydicom.uid.UID(uid)).available_plugins


def test_shipped_files_equal_pillow_plugin(registered):
    """Every shipped JPEG file pydicom's Pillow plugin decodes: the same array."""
    compared = 0
    for path, ds in jpeg_datasets():
        try:
            want = pixels(ds, "pillow")
        except Exception:
            continue  # 12-bit, lossless: Pillow's plugin does not decode them
        got = pixels(ds, "fdjpeg")
        assert got.dtype == want.dtype and got.shape == want.shape, path.name
        np.testing.assert_array_equal(got, want, err_msg=path.name)
        compared += 1
    assert compared >= 12


def test_shipped_12bit_and_lossless_files_equal_libjpeg_turbo(registered):
    """The files only fdjpeg decodes among the installed plugins: each frame as libjpeg-turbo
    3 decodes its codestream (grey, or lossless RGB: no colour conversion in either)."""
    checked = []
    for path, ds in jpeg_datasets():
        try:
            pixels(ds, "pillow")
            continue
        except Exception:
            pass
        got = pixels(ds, "fdjpeg")
        fr = frames(ds)
        want = np.stack([imagecodecs.jpeg8_decode(f) for f in fr])
        if len(fr) == 1:
            want = want[0]
        assert got.shape == want.shape, path.name
        np.testing.assert_array_equal(got.astype(np.int64), want.astype(np.int64), err_msg=path.name)
        checked.append((path.name, int(ds.BitsStored)))
    names = dict(checked)
    assert names.get("JPEG-lossy.dcm") == 12  # pydicom's 12-bit JPEG Extended example
    assert any(n.startswith("SC_rgb_jpeg_gdcm") for n in names)  # JPEG Lossless SV1, RGB


def test_purification_option(registered):
    path = TEST_FILES / "JPEG-lossy.dcm"
    ds = dcmread(path)
    (frame,) = frames(ds)
    plain = pixels(ds, "fdjpeg")
    pur = pixels(ds, "fdjpeg", fdjpeg_purify=True)
    np.testing.assert_array_equal(pur, fdjpeg.decode(frame, purify=True))
    assert not np.array_equal(pur, plain)
    # lossless frames have no coefficients to requantize
    lossless = [ds for p, ds in jpeg_datasets() if str(ds.file_meta.TransferSyntaxUID).endswith(".70")]
    assert lossless
    with pytest.raises(Exception, match="(?i)lossless|coefficient"):
        pixels(lossless[0], "fdjpeg", fdjpeg_purify=True)
