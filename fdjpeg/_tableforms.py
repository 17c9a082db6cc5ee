"""The forms in which fdjpeg takes quantization tables (``table=``, ``purify=``).

* one table, an (8, 8) or (64,) array or nested list -> every component;
* a list/tuple of two tables -> Pillow's slots: the first for component 0
  (luma), the second for the others (chroma);
* a list/tuple (or (n, 8, 8) / (n, 64) array) of one table per component;
* a dict ``{slot: table}`` with slots 0..n-1, read like the list of its values;
* ``True`` -> the package's default FD table, ``fdjpeg.tables.feature_distillation()``.

Tables are in natural (row-major) order; entries are integers 1..65535 (T.81
allows 16-bit steps; entries above 255 make the encoder write a 16-bit DQT and
SOF1).
"""
import numbers

import numpy as np

__all__ = ["normalize_tables", "table_slots"]

_MAX_STEP = 65535


def _one_table(t, name):
    if isinstance(t, (str, bytes, bytearray, dict)) or t is None or isinstance(t, bool):
        raise TypeError(f"{name} must be 64 integers, not {type(t).__name__}")
    try:
        arr = np.asarray(t)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be 64 integers: {exc}") from None
    if arr.dtype == object:
        raise ValueError(f"{name} must be a rectangular (8, 8) or (64,) table of integers")
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}")
    if arr.shape not in ((8, 8), (64,)):
        raise ValueError(f"{name} must have shape (8, 8) or (64,), got {arr.shape}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(f"{name} must hold whole numbers")
    vals = arr.astype(np.int64).reshape(64)
    lo, hi = int(vals.min()), int(vals.max())
    if lo < 1 or hi > _MAX_STEP:
        bad = int(np.flatnonzero((vals < 1) | (vals > _MAX_STEP))[0])
        raise ValueError(f"{name} entries must be integers 1..{_MAX_STEP}; entry {bad} "
                         f"(row {bad // 8}, column {bad % 8}) is {int(vals[bad])}")
    return vals.astype(np.uint16)


def _is_single_table(t):
    """An (8, 8)/(64,) array, or a flat list of 64 numbers, or 8 rows of 8 numbers."""
    if isinstance(t, np.ndarray):
        return t.shape in ((8, 8), (64,))
    if isinstance(t, (list, tuple)):
        if len(t) == 64 and all(isinstance(v, numbers.Number) for v in t):
            return True
        if len(t) == 8 and all(isinstance(r, (list, tuple, np.ndarray)) and len(r) == 8
                               for r in t):
            return all(isinstance(v, numbers.Number) for r in t for v in r)
    return False


def table_slots(table, num_components):
    """Tables and slot assignment as the encoder writes them.

    Returns ``(tables, comp_slots)``: ``tables`` a (n, 64) uint16 array of the DQT
    slots (natural order), ``comp_slots`` the slot of each component.  One table
    uses slot 0 for all components; two tables are Pillow's slots (0 for
    component 0, 1 for the rest); ``num_components`` tables get one slot each.
    """
    if isinstance(num_components, bool) or not isinstance(num_components, numbers.Integral) \
            or not 1 <= num_components <= 4:
        raise ValueError(f"num_components must be 1..4, got {num_components!r}")
    if table is True:
        from fdjpeg import tables as _tables  # lazy: tables imports numpy-heavy helpers

        table = _tables.feature_distillation()
    if table is None or table is False:
        raise TypeError("a quantization table is required (True for the default FD table)")
    if isinstance(table, dict):
        keys = sorted(table)
        if keys != list(range(len(keys))):
            raise ValueError(f"table dict keys must be the slots 0..n-1, got {keys}")
        table = [table[k] for k in keys]
    if _is_single_table(table):
        return _one_table(table, "table").reshape(1, 64), [0] * num_components
    if isinstance(table, np.ndarray):
        if table.ndim in (2, 3) and table.shape[1:] in ((64,), (8, 8)):
            table = list(table)
        else:
            raise ValueError(f"table array must have shape (8, 8), (64,), (n, 8, 8) or (n, 64), "
                             f"got {table.shape}")
    if not isinstance(table, (list, tuple)):
        raise TypeError("table must be an (8, 8) or (64,) table, a list of tables, a dict of "
                        f"slots or True, not {type(table).__name__}")
    n = len(table)
    tabs = [_one_table(t, f"table[{i}]") for i, t in enumerate(table)]
    if n == 1:
        return np.stack(tabs), [0] * num_components
    if n == 2:
        return np.stack(tabs), [0] + [1] * (num_components - 1)
    if n == num_components:
        return np.stack(tabs), list(range(num_components))
    raise ValueError(f"give 1 table, 2 tables (luma, chroma) or one per component "
                     f"({num_components}); got {n}")


def normalize_tables(table, num_components):
    """The table of each component: (num_components, 64) uint16, natural order."""
    tabs, slots = table_slots(table, num_components)
    return np.ascontiguousarray(tabs[slots])
