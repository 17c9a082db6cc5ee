"""``python -m fdjpeg.eval``: the same as ``fdjpeg eval``."""
import sys

from fdjpeg.eval.run import main

sys.exit(main())
