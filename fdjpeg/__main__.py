"""``python -m fdjpeg``: the fdjpeg command line (see fdjpeg/cli.py)."""
import sys

from fdjpeg.cli import main

sys.exit(main())
