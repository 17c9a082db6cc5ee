"""Old home of the straight-through BPDA / APGD attacks: they live in :mod:`fdjpeg.eval.adaptive_st`
(the research room). Kept so ``python -m fdjpeg._attacks_st`` and the commands recorded in
bench/results/table2_adaptive.* still run."""
from fdjpeg.eval.adaptive_st import *  # noqa: F401,F403
from fdjpeg.eval.adaptive_st import apgd, bpda_st, main  # noqa: F401

if __name__ == "__main__":
    main()
