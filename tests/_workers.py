"""Functions and a dataset that worker processes import (spawn/forkserver pickle them by name)."""
import numpy as np


def probe(path):
    """In a worker: (does this process route Image.open through fdjpeg?, image class, pixels)."""
    from PIL import Image

    import fdjpeg.pillow

    with Image.open(path) as im:
        return fdjpeg.pillow.is_registered(), type(im).__name__, np.asarray(im)


class JpegPaths:
    """A map-style dataset (no torch import needed here): Image.open as a folder dataset does."""

    def __init__(self, paths):
        self.paths = list(paths)

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        import fdjpeg.pillow
        from PIL import Image

        with Image.open(self.paths[i]) as im:
            return int(fdjpeg.pillow.is_registered()), np.asarray(im)
