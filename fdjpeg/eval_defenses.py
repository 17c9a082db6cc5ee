"""Old name of :mod:`fdjpeg.eval.defenses` (kept as an alias: the same module object)."""
import sys

from fdjpeg.eval import defenses as _home

sys.modules[__name__] = _home
