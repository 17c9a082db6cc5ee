"""Old name of :mod:`fdjpeg.eval.models` (kept as an alias: the same module object)."""
import sys

from fdjpeg.eval import models as _home

sys.modules[__name__] = _home
