"""Old name of :mod:`fdjpeg.eval.attacks` (kept as an alias: the same module object)."""
import sys

from fdjpeg.eval import attacks as _home

sys.modules[__name__] = _home
