"""Purify a dataset larger than one machine with Dask (a recipe, not a scheduler of our own).

    from dask.distributed import Client
    from fdjpeg.dask import purify_folder

    client = Client("scheduler-address:8786")   # or Client(LocalCluster(...)) on one machine
    results = purify_folder("s3fs-or-nfs/images", "s3fs-or-nfs/clean", client=client)
    failed = [r for r in results if not r["ok"]]

Each task is one file, purified exactly as ``fdjpeg purify`` does (the same code,
``fdjpeg/_batchio.py``): JPEG inputs are transcoded (``fdjpeg.transcode``: coefficients
requantized to T and written with T, no pixel decoding), other images and lossless JPEGs are
encoded with T.  Outputs are written through a temporary file and renamed, never overwriting
without ``force=True``; a failing file is reported in its result and the others continue.
The same function runs serially (``client=None, scheduler="sync"``), on Dask's local threads,
or on any ``dask.distributed`` cluster: the result does not depend on where it ran.
``import fdjpeg`` never imports this module; importing it needs Dask, the ``dask`` extra
(``pip install "fdjpeg[dask]"``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Union

try:
    import dask  # noqa: F401
    import dask.bag  # noqa: F401
except ImportError as _exc:
    raise ImportError(
        "fdjpeg.dask needs Dask (with dask.bag): install the extra with "
        "pip install \"fdjpeg[dask]\"" + f" ({_exc})") from _exc

from fdjpeg._batchio import IMAGE_SUFFIXES, check_target, collect_jobs, purify_to_bytes, write_atomic
from fdjpeg.tables import TableSpec

if TYPE_CHECKING:
    from distributed import Client

#: A file or folder name: str or os.PathLike.
PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["purify_file", "purify_folder"]


def purify_file(src: PathLike, dst: PathLike, table: Optional[TableSpec] = None, subsampling: str = "4:4:4",
                force: bool = False, skip_existing: bool = False) -> Dict[str, Any]:
    """Purify one file (the unit of work of a Dask task); returns a result dict, never raises.

    The dict has ``"input"``, ``"output"`` and ``"ok"``; a success adds ``"method"`` (how it
    was purified) and ``"bytes"``, a failure ``"error"``.  With ``skip_existing`` an existing
    output is left alone (result ``"skipped": True``).

    Example::

        >>> import numpy as np, fdjpeg
        >>> from fdjpeg.dask import purify_file
        >>> with open("photo.jpg", "wb") as fh:
        ...     _ = fh.write(fdjpeg.encode(np.zeros((16, 16, 3), np.uint8), "q95"))
        >>> r = purify_file("photo.jpg", "clean.jpg")          # the package's FD table
        >>> r["ok"], r["method"]
        (True, 'transcode')
        >>> purify_file("photo.jpg", "clean.jpg")["ok"]        # never overwrites
        False
    """
    from fdjpeg import tables

    src, dst = Path(src), Path(dst)
    if skip_existing and dst.exists():
        return {"input": str(src), "output": str(dst), "ok": True, "skipped": True}
    try:
        check_target(dst, force)
        tabs = tables.parse(True if table is None else table)
        data, how = purify_to_bytes(src, tabs, subsampling=subsampling)
        write_atomic(dst, data, force)
        return {"input": str(src), "output": str(dst), "ok": True, "method": how, "bytes": len(data)}
    except Exception as exc:
        return {"input": str(src), "output": str(dst), "ok": False, "error": f"{type(exc).__name__}: {exc}"}


def purify_folder(src_dir: PathLike, dst_dir: PathLike, table: Optional[TableSpec] = None, *,
                  client: Optional[Client] = None, subsampling: str = "4:4:4", force: bool = False,
                  skip_existing: bool = False, scheduler: Optional[str] = None) -> List[Dict[str, Any]]:
    """Purify every image under ``src_dir`` into ``dst_dir`` (same tree, .jpg) with Dask.

    ``client``: a ``dask.distributed.Client``; the files are mapped over its workers with
    ``client.map`` and gathered.  Without one, ``dask.bag`` runs the same tasks with
    ``scheduler`` (None = Dask's default, "sync" = serial in this process).
    ``table``: any form of :func:`fdjpeg.tables.parse` (None or True: the package's FD table).
    ``skip_existing``: leave existing outputs alone (resume a run); excludes ``force``.
    The output tree is never read as input, and two inputs that would write one output
    (``a.jpg``, ``a.png``) raise ValueError with their names before any task runs.
    Returns one result dict per file (as :func:`purify_file`), in sorted input order.

    Example (serially here; pass ``client=Client(...)`` for a cluster)::

        >>> import os, numpy as np, fdjpeg
        >>> from fdjpeg.dask import purify_folder
        >>> os.makedirs("photos/cats", exist_ok=True)
        >>> with open("photos/cats/a.jpg", "wb") as fh:
        ...     _ = fh.write(fdjpeg.encode(np.zeros((16, 16, 3), np.uint8), "q95"))
        >>> results = purify_folder("photos", "clean", table="fd", scheduler="sync")
        >>> [(r["output"], r["ok"]) for r in results]
        [('clean/cats/a.jpg', True)]
    """
    from fdjpeg._batchio import UsageError

    if force and skip_existing:
        raise ValueError("force and skip_existing exclude each other")
    from fdjpeg import tables

    table = tables.parse(True if table is None else table)  # errors here, before any task
    try:
        jobs, _ = collect_jobs(src_dir, dst_dir, IMAGE_SUFFIXES, ".jpg")
    except UsageError as exc:
        raise ValueError(str(exc)) from None
    srcs = [str(s) for s, _ in jobs]
    dsts = [str(d) for _, d in jobs]
    if not jobs:
        return []
    n = len(jobs)
    if client is not None:
        futures = client.map(purify_file, srcs, dsts, [table] * n, [subsampling] * n, [force] * n,
                             [skip_existing] * n, pure=False)
        return client.gather(futures)
    import dask.bag as db

    bag = db.from_sequence(list(zip(srcs, dsts)), npartitions=min(n, 8))
    results = bag.map(lambda sd: purify_file(sd[0], sd[1], table, subsampling, force, skip_existing))
    return results.compute(scheduler=scheduler)
