"""Adaptive checks the paper did not run (issue #5, "Go beyond").

1. On-grid attack on two-pass FD (``fdjpeg.eval.attacks.ongrid``): the attacker edits the
   sensor JPEG's quantized DCT coefficients by whole steps of T, so the defender's
   requantization cannot undo the change.  Reported: success against fd2p, perceptual cost
   (L2, L-inf, PSNR against the sensor image), coefficients changed, and how many pixels the
   defender's purify still changes (0 would be a perfect fixed point).
2. SquareAttack (ART, gradient-free, L-inf) through the defenses none / fd1p / fd2p: a
   gradient-free attack that succeeds where gradient attacks fail would expose gradient
   masking; compare with BPDA at the same epsilon in bench/results/table2.md.

Same model, preprocessing and seeds as Table 1 (the first N sample images the model classifies
correctly).  Adversarial examples are cached under eval-cache/ (resumable).  Run from the
repository root (``fdjpeg eval adaptive-attacks ...`` is the same):

    python -m fdjpeg.eval.adaptive_attacks [--seeds 100] [--square-seeds 30] [--square-eps 4] \
        [--square-iter 300] [--threads 1]

Writes bench/results/adaptive.md and adaptive.json.
"""
from __future__ import annotations

import json
import sys
import time

import numpy as np

from fdjpeg._fdops import to_uint8
from fdjpeg.eval import attacks as A
from fdjpeg.eval.defenses import Defenses
from fdjpeg.eval.report import git_dirty, git_sha, machine, write_results
from fdjpeg.eval.run import RESULTS, study_evaluation, study_parser


def norms_vs(ref, adv):
    d = adv.astype(np.float64) - ref.astype(np.float64)
    flat = d.reshape(len(d), -1)
    mse = (flat ** 2).mean(1)
    psnr = np.where(mse > 0, 10 * np.log10(255.0 ** 2 / np.maximum(mse, 1e-12)), np.inf)
    return {"l2": float(np.sqrt(((flat / 255.0) ** 2).sum(1)).mean()),
            "linf_255": float(np.abs(flat).max(1).mean()),
            "l0": float((np.abs(d).max(-1) > 0).reshape(len(d), -1).mean(1).mean()),
            "psnr_db_median": float(np.median(psnr))}


def defended_classifier(model, defense, crop):
    import torch
    from art.estimators.classification import PyTorchClassifier

    class Defended(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, x):  # the defense sees uint8 pixels, as deployed
            u8 = to_uint8(x.detach().cpu().numpy().transpose(0, 2, 3, 1))
            d = np.ascontiguousarray(defense(u8).transpose(0, 3, 1, 2))
            return self.model(torch.from_numpy(d).float() / 255.0)

    return PyTorchClassifier(model=Defended(), loss=torch.nn.CrossEntropyLoss(),
                             input_shape=(3, crop, crop), nb_classes=1000,
                             clip_values=(0.0, 1.0), device_type="cpu")


def main(argv=None):
    p = study_parser(__doc__)
    p.add_argument("--seeds", type=int, default=100, help="seeds for the on-grid attack")
    p.add_argument("--square-seeds", type=int, default=30)
    p.add_argument("--square-eps", type=float, default=4.0, help="in 1/255 units")
    p.add_argument("--square-iter", type=int, default=300)
    a = p.parse_args(argv)
    t_start = time.time()
    ev = study_evaluation(a, benign=200, seeds=a.seeds)
    if ev is None:
        return 2
    defs = Defenses()
    T = defs.table
    seeds = ev.seed_idx
    x, y = ev.images[seeds], ev.labels[seeds]
    res = {"model": ev.model_name, "images": ev.images_desc, "git": git_sha(),
           "git_dirty": git_dirty(), "machine": machine(), "fd_table": T.tolist(),
           "n_seeds": int(len(seeds))}

    # -- 1. on-grid attack on two-pass FD -----------------------------------------------------
    params = {"k": 50, "max_iter": 60, "budget": 1}
    key = A._key(ev.model_name, "ongrid", params, T.tolist(),
                 A.images_key([ev.names[i] for i in seeds], x))
    cache = A.Cache(ev.cache_root, "ongrid", key, len(seeds), x.shape[1:], np.uint8)
    stats_path = cache.path.with_suffix(".stats.json")
    t0 = time.time()
    if not cache.done.all() or not stats_path.exists():
        sensors, advs, st = A.ongrid(ev.model, x, y, T, **params)
        cache.data[:] = advs
        cache.done[:] = True
        cache.save()
        st["seconds"] = time.time() - t0
        stats_path.write_text(json.dumps(st))
    st = json.loads(stats_path.read_text())
    advs = cache.data
    sensors = defs.sensor(x, "fd2p")
    clean_ok = ev.predict(defs.get("fd1p")(sensors)) == y  # fd2p on the benign sensor image
    adv_ok = ev.predict(defs.get("fd1p")(advs)) == y
    res["ongrid"] = {
        "params": params, "seconds_per_seed": st["seconds"] / len(seeds),
        "acc_m_fd2p": float(adv_ok.mean()),
        "fd2p_clean_correct": float(clean_ok.mean()),
        "success_on_clean_correct": float((~adv_ok[clean_ok]).mean()),
        "norms_vs_sensor": norms_vs(sensors, advs),
        "coefficients_changed_mean": float(np.mean(st["coefficients_changed"])),
        "coefficients_total": int(np.prod(x.shape[1:])),
        "purify_changed_pixels_mean": float(np.mean(st["purify_changed_pixels"])),
        "iterations_mean": float(np.mean(st["iterations"])),
        "undefended_fooled": float((ev.predict(advs) != y).mean()),
    }
    print("on-grid:", json.dumps(res["ongrid"]), flush=True)

    # -- 2. SquareAttack through the defenses -------------------------------------------------
    from art.attacks.evasion import SquareAttack

    n_sq = min(a.square_seeds, len(seeds))
    eps = a.square_eps / 255.0
    sq_params = {"norm": "inf", "eps": eps, "max_iter": a.square_iter, "p_init": 0.05,
                 "nb_restarts": 1}
    res["square"] = {"params": dict(sq_params, eps_255=a.square_eps), "n_seeds": n_sq,
                     "acc_m": {}, "norms": {}, "seconds_per_seed": {}}
    for name in ("none", "fd1p", "fd2p"):
        xs = x[:n_sq] if name != "fd2p" else sensors[:n_sq]
        f = defs.get("none" if name == "none" else "fd1p")
        key = A._key(ev.model_name, "square", sq_params, name, T.tolist(),
                     A.images_key([ev.names[i] for i in seeds[:n_sq]], xs))
        c = A.Cache(ev.cache_root, f"square-{name}", key, n_sq, x.shape[1:], np.uint8)
        t0 = time.time()
        if not c.done.all():
            clf = defended_classifier(ev.model, f, ev.crop)
            att = SquareAttack(clf, norm=np.inf, eps=eps, max_iter=a.square_iter, p_init=0.05,
                               nb_restarts=1, batch_size=10, verbose=False)
            for i in range(0, n_sq, 10):
                sl = slice(i, min(i + 10, n_sq))
                if c.done[sl].all():
                    continue
                xf = xs[sl].transpose(0, 3, 1, 2).astype(np.float32) / 255.0
                adv = att.generate(x=xf, y=np.eye(1000, dtype=np.float32)[y[:n_sq][sl]])
                c.data[sl] = to_uint8(adv).transpose(0, 2, 3, 1)
                c.done[sl] = True
                c.save()
            res["square"]["seconds_per_seed"][name] = (time.time() - t0) / n_sq
        ok = ev.predict(f(c.data)) == y[:n_sq]
        res["square"]["acc_m"][name] = float(ok.mean())
        res["square"]["norms"][name] = norms_vs(xs, c.data)
        print(f"square {name}: acc_m {ok.mean():.2f}", flush=True)

    res["seconds_total"] = time.time() - t_start
    write_results(a.out, "adaptive", res, markdown(res, a))
    return 0


def fgsm_scale(r):
    """FGSM's perceptual cost from the committed Table 1, for comparison."""
    try:
        t1 = json.loads((RESULTS / "table1.json").read_text())
        f = t1["norms"]["fgsm"]
    except (OSError, KeyError, ValueError):
        return ""
    n = 3 * 224 * 224
    mse = (f["l2"] * 255.0) ** 2 / n
    return (f"For scale, FGSM at 2/255 in Table 1: mean L2 {f['l2']:.2f}, L∞ "
            f"{f['linf_255']:.0f}/255, PSNR ≈ {10 * np.log10(255.0 ** 2 / mse):.1f} dB (from its "
            "mean L2).")


def markdown(r, a):
    og, sq = r["ongrid"], r["square"]
    n = og["norms_vs_sensor"]
    lines = [
        "# Adaptive attacks on Feature Distillation (beyond the paper)", "",
        f"Model `{r['model']}`; {r['n_seeds']} seeds of the ImageNet sample (the Table 1 seeds); "
        f"git {r['git']}{' (uncommitted changes)' if r.get('git_dirty') else ''}; "
        f"{r['machine']}.", "",
        "## On-grid attack on two-pass FD", "",
        "The attacker receives the sensor's JPEG (encoded with the FD table T, 4:4:4) and edits "
        "its quantized DCT coefficients by whole steps (at most one step each), greedily by "
        "loss gradient per unit of pixel L2 through a float model of the decoder "
        f"(`fdjpeg.eval.attacks.ongrid`, k={og['params']['k']} coefficients per iteration, "
        f"at most {og['params']['max_iter']} iterations). Requantization with T maps the "
        "result back onto itself, so FD-2P cannot remove it.", "",
        "| quantity | value |", "|---|---|",
        f"| fd2p accuracy on the benign sensor images | {og['fd2p_clean_correct']:.0%} |",
        f"| fd2p accuracy under the on-grid attack (acc_m) | {og['acc_m_fd2p']:.0%} |",
        f"| success on seeds fd2p got right | {og['success_on_clean_correct']:.0%} |",
        f"| undefended model fooled by the same images | {og['undefended_fooled']:.0%} |",
        f"| mean L2 / L∞ (×255) vs the sensor image | {n['l2']:.2f} / {n['linf_255']:.1f} |",
        f"| median PSNR vs the sensor image | {n['psnr_db_median']:.1f} dB |",
        f"| coefficients changed (mean, of {og['coefficients_total']:,}) | "
        f"{og['coefficients_changed_mean']:.0f} |",
        f"| pixels purify still changes (mean fraction) | {og['purify_changed_pixels_mean']:.4f} |",
        f"| seconds per seed | {og['seconds_per_seed']:.1f} |", "",
        fgsm_scale(r), "",
        "## SquareAttack (gradient-free) through FD", "",
        f"ART SquareAttack, L∞ ε = {sq['params']['eps_255']:g}/255, {sq['params']['max_iter']} "
        f"iterations, p_init {sq['params']['p_init']}, on the first {sq['n_seeds']} seeds; the "
        "model behind the defense is queried on uint8 pixels (fd2p: the attack starts from the "
        "sensor image).", "",
        "| defense | acc_m | mean L2 | s/seed |", "|---|---|---|---|",
    ]
    for k, v in sq["acc_m"].items():
        s = sq["seconds_per_seed"].get(k)
        lines.append(f"| {k} | {v:.0%} | {sq['norms'][k]['l2']:.2f} | "
                     f"{'' if s is None else f'{s:.1f}'} |")
    lines += ["", "Command:", "",
              f"    python -m fdjpeg.eval.adaptive_attacks --seeds {r['n_seeds']} --square-seeds "
              f"{sq['n_seeds']} --square-eps {sq['params']['eps_255']:g} --square-iter "
              f"{sq['params']['max_iter']} --threads {a.threads}", "",
              f"Total {r['seconds_total']:.0f} s (cached examples are reused).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
