"""Old name of :mod:`fdjpeg.eval.data` (kept as an alias: the same module object)."""
import sys

from fdjpeg.eval import data as _home

sys.modules[__name__] = _home
