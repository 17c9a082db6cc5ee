"""Old name of the evaluation's entry point, now :mod:`fdjpeg.eval.run` (kept as an alias).

Re-exports what code and scripts imported from here; new code imports from ``fdjpeg.eval``.
"""
import sys

from fdjpeg._progress import progress as _progress_bar
from fdjpeg.eval.report import (PAPER_TABLE1, PAPER_TABLE2, markdown, plot_fig4,  # noqa: F401
                                git_sha as _git_sha, machine as _machine,
                                versions as _versions)
from fdjpeg.eval.run import (SLOW_DEFENSES, EvalConfig, Evaluation, _csv,  # noqa: F401
                             build_parser, main, run_fig4)
from fdjpeg.eval.run import DEFAULT_ATTACKS as _ATTACKS, DEFAULT_DEFENSES as _DEFENSES

DEFAULT_ATTACKS, DEFAULT_DEFENSES = ",".join(_ATTACKS), ",".join(_DEFENSES)  # as they were


def _progress(total, desc, disable):
    """The old helper's signature (``disable``, not ``enabled``)."""
    return _progress_bar(total, desc, not disable, leave=False)


if __name__ == "__main__":
    sys.exit(main())
