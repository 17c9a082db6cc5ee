"""Input-transformation defenses for the evaluation: uint8 NHWC in, uint8 NHWC out.

none, bit5 (ART FeatureSqueezing), jpegQ (Pillow), tvm (ART TotalVarMin), quilting (Guo et al.,
nearest neighbours from scikit-learn over a patch database of images that are not evaluated),
fd1p / fd2p (fdjpeg.purify with the package's FD table T), fd1p_paper / fd2p_paper (the same
with the paper's design, ``feature_distillation(s_md=30, s_as=20, n_as=15)``) and fdkx (one-pass
with k*T).
"""
from __future__ import annotations

import io
import re

import numpy as np
from PIL import Image

from fdjpeg._fdops import to_uint8

DEFENSE_NAMES = ("none", "bit5", "jpeg90", "jpeg75", "jpeg20", "jpeg10", "quilting", "tvm",
                 "fd1p", "fd2p", "fd1p_paper", "fd2p_paper", "fd1x", "fd2x", "fd3x")
_DEF_RE = re.compile(r"^(none|bit(\d)|jpeg(\d{1,3})|quilting|tvm|fd1p|fd2p|fd1p_paper|fd2p_paper"
                     r"|fd(\d)x|fdq(\d{1,3})|fd2pq(\d{1,3}))$")


def fd_table():
    """(table (8, 8) int, where it came from): the package's default Feature Distillation table."""
    from fdjpeg import tables

    return np.asarray(tables.feature_distillation(), dtype=np.int64).reshape(8, 8), \
        "fdjpeg.tables.feature_distillation()"


PAPER_DESIGN = "fdjpeg.tables.feature_distillation(s_md=30, s_as=20, n_as=15)"


def paper_table():
    """The paper's design (Sec. 3.2: S_md 30, S_as 20, n 15 on the shipped band statistics)."""
    from fdjpeg import tables

    return np.asarray(tables.feature_distillation(s_md=30, s_as=20, n_as=15),
                      dtype=np.int64).reshape(8, 8)


def jpeg_quality(images, quality):
    out = np.empty_like(images)
    for i, img in enumerate(images):
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, "JPEG", quality=int(quality))
        out[i] = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    return out


class Quilting:
    """Guo et al. (ICLR 2018) image quilting.

    Each p x p patch on a grid with the given overlap is replaced by one of its K nearest
    neighbours (chosen at random) from a database of patches cut from images that are not
    evaluated.  Overlaps are blended by averaging rather than the paper's minimum-error seam.
    """

    def __init__(self, db_images, patch=5, overlap=2, k=10, n_patches=100_000, seed=0):
        from sklearn.neighbors import NearestNeighbors

        self.patch, self.overlap, self.k = patch, overlap, k
        rng = np.random.default_rng(seed)
        db_images = np.asarray(db_images)
        n, h, w, _ = db_images.shape
        per = max(1, n_patches // n)
        ii = np.repeat(np.arange(n), per)
        yy = rng.integers(0, h - patch + 1, size=ii.size)
        xx = rng.integers(0, w - patch + 1, size=ii.size)
        off = np.arange(patch)
        pats = db_images[ii[:, None, None], (yy[:, None] + off)[:, :, None],
                         (xx[:, None] + off)[:, None, :]]
        self.db = pats.reshape(len(ii), -1).astype(np.float32)
        self.nn = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(self.db)
        self.rng = np.random.default_rng(seed + 1)
        self.settings = {"patch": patch, "overlap": overlap, "k": k,
                         "db_patches_requested": n_patches, "db_patches": int(len(ii)),
                         "db_images": int(n), "blend": "average", "seed": seed,
                         "nn": "sklearn NearestNeighbors (brute, euclidean)"}

    def _grid(self, size):
        step = self.patch - self.overlap
        pos = list(range(0, size - self.patch + 1, step))
        if pos[-1] != size - self.patch:
            pos.append(size - self.patch)
        return np.array(pos)

    def __call__(self, images):
        out = np.empty_like(images)
        p = self.patch
        for idx, img in enumerate(images):
            h, w, c = img.shape
            ys, xs = self._grid(h), self._grid(w)
            off = np.arange(p)
            Y = (ys[:, None, None, None] + off[None, None, :, None])
            X = (xs[None, :, None, None] + off[None, None, None, :])
            q = img[np.broadcast_to(Y, (len(ys), len(xs), p, p)),
                    np.broadcast_to(X, (len(ys), len(xs), p, p))]
            q = q.reshape(-1, p * p * c).astype(np.float32)
            nbr = self.nn.kneighbors(q, return_distance=False)
            pick = nbr[np.arange(len(nbr)), self.rng.integers(0, self.k, size=len(nbr))]
            rep = self.db[pick].reshape(len(ys), len(xs), p, p, c)
            acc = np.zeros((h, w, c), np.float64)
            cnt = np.zeros((h, w, 1), np.float64)
            for a, y in enumerate(ys):
                for b, x in enumerate(xs):
                    acc[y:y + p, x:x + p] += rep[a, b]
                    cnt[y:y + p, x:x + p] += 1
            out[idx] = np.clip(np.floor(acc / cnt + 0.5), 0, 255).astype(np.uint8)
        return out


class Defenses:
    """Builds defense callables by name; records their settings."""

    def __init__(self, table=None, quilting_db=None, seed=0, quilting_patches=40_000):
        if table is None:
            table, self.table_source = fd_table()
        else:
            self.table_source = "given"
        # one (8, 8) table for every component, or (2, 8, 8): luma, chroma
        t = np.asarray(table, dtype=np.int64)
        self.table = t.reshape(8, 8) if t.size == 64 else t.reshape(2, 8, 8)
        from fdjpeg import purify

        self.purify, self.purify_source = purify, "fdjpeg.purify"
        self.quilting_db = quilting_db
        self.quilting_patches = quilting_patches
        self.seed = seed
        self._cache = {}

    def sensor(self, images, name="fd2p"):
        """FD-2P's sensor: the benign image as the camera encodes it with T (decode(encode(x, T)))."""
        return self.purify(np.ascontiguousarray(images), self.table_for(name))

    @staticmethod
    def validate(name):
        if _DEF_RE.match(name) is None:
            raise ValueError(f"unknown defense {name!r}; known: {', '.join(DEFENSE_NAMES)}")

    def settings(self, name):
        self.validate(name)
        m = _DEF_RE.match(name)
        if name == "none":
            return {}
        if m.group(2):
            return {"bit_depth": int(m.group(2)), "impl": "art FeatureSqueezing"}
        if m.group(3):
            return {"quality": int(m.group(3)), "impl": "Pillow, default 4:2:0 subsampling"}
        if name == "tvm":
            return {"impl": "art TotalVarMin", "prob": 0.3, "norm": 2, "lamb": 0.5,
                    "solver": "L-BFGS-B", "max_iter": 10, "seed": self.seed}
        if name == "quilting":
            q = self._cache.get("quilting")
            if q is not None:
                return dict(q.settings)
            return {"patch": 5, "overlap": 2, "k": 10, "db_patches_requested":
                    self.quilting_patches, "blend": "average", "seed": self.seed}
        if name in ("fd1p", "fd2p"):
            return {"impl": self.purify_source, "table": "T", "subsampling": "4:4:4",
                    "two_pass": name == "fd2p"}
        if name in ("fd1p_paper", "fd2p_paper"):
            return {"impl": self.purify_source, "table": PAPER_DESIGN, "subsampling": "4:4:4",
                    "two_pass": name == "fd2p_paper"}
        if m.group(4):
            return {"impl": self.purify_source, "table": f"{m.group(4)}*T", "subsampling": "4:4:4"}
        if m.group(5):
            return {"impl": self.purify_source, "table": f"uniform {m.group(5)}"}
        return {"impl": self.purify_source, "table": f"uniform {m.group(6)}", "two_pass": True}

    def table_for(self, name):
        m = _DEF_RE.match(name)
        if name in ("fd1p", "fd2p"):
            return self.table if self.table.ndim == 2 else list(self.table)
        if name in ("fd1p_paper", "fd2p_paper"):
            return paper_table()
        if m.group(4):
            k = np.minimum(self.table * int(m.group(4)), 32767)
            return k if k.ndim == 2 else list(k)
        if m.group(5):
            return np.full((8, 8), int(m.group(5)), dtype=np.int64)
        if m.group(6):
            return np.full((8, 8), int(m.group(6)), dtype=np.int64)
        raise ValueError(name)

    def get(self, name):
        """Callable uint8 NHWC -> uint8 NHWC for the named defense."""
        m = _DEF_RE.match(name)
        if m is None:
            raise ValueError(f"unknown defense {name!r}; known: {', '.join(DEFENSE_NAMES)}")
        if name == "none":
            return lambda x: x
        if m.group(2):
            from art.defences.preprocessor import FeatureSqueezing

            fs = FeatureSqueezing(clip_values=(0.0, 1.0), bit_depth=int(m.group(2)))
            return lambda x: to_uint8(fs(x.astype(np.float32) / 255.0)[0])
        if m.group(3):
            q = int(m.group(3))
            if not 1 <= q <= 100:
                raise ValueError(f"JPEG quality must be 1..100: {name}")
            return lambda x: jpeg_quality(x, q)
        if name == "tvm":
            from art.defences.preprocessor import TotalVarMin

            tvm = TotalVarMin(prob=0.3, norm=2, lamb=0.5, solver="L-BFGS-B", max_iter=10,
                              clip_values=(0.0, 1.0), verbose=False)

            def run_tvm(x):
                np.random.seed(self.seed)  # TotalVarMin draws its dropout mask from np.random
                return to_uint8(tvm(x.astype(np.float32) / 255.0)[0])

            return run_tvm
        if name == "quilting":
            if "quilting" not in self._cache:
                if self.quilting_db is None:
                    raise ValueError("quilting needs a patch database of images that are not "
                                     "evaluated (an --images folder with more images than used)")
                self._cache["quilting"] = Quilting(self.quilting_db, seed=self.seed,
                                                   n_patches=self.quilting_patches)
            return self._cache["quilting"]
        table = self.table_for(name)
        return lambda x: self.purify(np.ascontiguousarray(x), table)

    @staticmethod
    def two_pass(name):
        return name in ("fd2p", "fd2p_paper") or name.startswith("fd2pq")
