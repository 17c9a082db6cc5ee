"""The evaluation: Feature Distillation and baseline defenses against adversarial attacks.

Rooms: ``data`` (ImageNet class list, images, the protocol's preprocessing), ``models``
(EfficientNet-Lite or any torch module), ``attacks`` (ART attacks, BPDA, the on-grid attack, the
resumable cache), ``defenses`` (input transformations by name), ``run`` (:class:`EvalConfig`,
:class:`Evaluation`, ``fdjpeg eval``), ``report`` (provenance, markdown, Fig. 4 plots).
Research beyond the paper, each ``python -m fdjpeg.eval.<name>`` or ``fdjpeg eval <name>``:
``adaptive_attacks``, ``search_fd_table``, ``offgrid_auc``, ``design_fd_table``, ``twopass_grid``.
Needs the ``eval`` extra (torch, ART, scikit-image, ...); results go to bench/results/.
"""
from fdjpeg.eval.run import STUDIES, EvalConfig, Evaluation, main

__all__ = ["EvalConfig", "Evaluation", "STUDIES", "main"]
