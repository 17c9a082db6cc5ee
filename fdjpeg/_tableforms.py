"""Old home of the table-form parser; kept as an alias of :mod:`fdjpeg.tables`.

The one parser is :func:`fdjpeg.tables.parse` (the forms are listed there and in
docs/tables.md); :func:`fdjpeg.tables.assign` maps the tables to components.
"""
import numpy as np

from fdjpeg.tables import assign as table_slots

__all__ = ["normalize_tables", "table_slots"]


def normalize_tables(table, num_components):
    """The table of each component: (num_components, 64) uint16, natural order."""
    tabs, slots = table_slots(table, num_components)
    return np.ascontiguousarray(tabs[slots])
