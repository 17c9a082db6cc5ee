"""``fdjpeg eval``: reproduce the paper's Tables 1 and 2 (and Fig. 4) on an ImageNet model.

Protocol (design-notes §4, paper §4): acc_l on the benign images through each defense; seeds are
the first N images the model classifies correctly; each attack's uint8-rounded examples are
scored through every defense (acc_m).  FD-2P's examples start from the seeds as the "sensor"
encoded them with the FD table.  BPDA attacks each defense through an identity backward pass.

With no ``--images`` it runs on the natural photographs scikit-image ships, labelled by the
model's clean prediction (the README's main job; a few minutes on 2 cores).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from fdjpeg import eval_attacks as A
from fdjpeg import eval_data as D
from fdjpeg.eval_defenses import DEFENSE_NAMES, Defenses

DEFAULT_ATTACKS = "fgsm,bim"
DEFAULT_DEFENSES = "none,bit5,jpeg90,quilting,tvm,fd1p,fd2p"
SLOW_DEFENSES = ("tvm", "quilting")

# The paper's numbers (%, MobileNet / Inception-v3), shown next to ours in the markdown tables.
PAPER_TABLE1 = {
    "none": {"fgsm": 0, "bim": 0, "deepfool": 11, "cw2": 10, "cw0": 0, "cwinf": 0, "acc_l": 69.5,
             "time": 0.11},
    "bit5": {"fgsm": 2, "bim": 0, "deepfool": 21, "cw2": 68, "cw0": 7, "cwinf": 33, "acc_l": 69.4,
             "time": 0.04},
    "jpeg90": {"fgsm": 5, "bim": 9, "deepfool": 9, "cw2": 68, "cw0": 5, "cwinf": 32, "acc_l": 69,
               "time": 0.11},
    "quilting": {"fgsm": 48, "bim": 61, "deepfool": 47, "cw2": 50, "cw0": 48, "cwinf": 49,
                 "acc_l": 63.5, "time": 32.47},
    "tvm": {"fgsm": 33, "bim": 42, "deepfool": 68, "cw2": 77, "cw0": 49, "cwinf": 90, "acc_l": 60,
            "time": 38.89},
    "fd1p": {"fgsm": 13, "bim": 35, "deepfool": 63, "cw2": 86, "cw0": 61, "cwinf": 78,
             "acc_l": 68.5, "time": 0.16},
    "fd2p": {"fgsm": 92, "bim": 99, "deepfool": 99, "cw2": 99, "cw0": 58, "cwinf": 99,
             "acc_l": 68.5, "time": 0.16},
}
PAPER_TABLE2 = {"none": (0, 78), "bit5": (0, 77), "quilting": (0, 72), "tvm": (0, 68),
                "jpeg75": (0, 74), "jpeg20": (34, 68), "jpeg10": (45, 61), "fd1x": (10, 77),
                "fd2x": (42, 76), "fd3x": (60, 74)}


def build_parser():
    p = argparse.ArgumentParser(
        prog="fdjpeg eval",
        description="Evaluate input-transformation defenses (Feature Distillation and baselines) "
                    "against adversarial attacks on an ImageNet model (paper Tables 1-2, Fig. 4).")
    p.add_argument("--images", help="ImageNet-style folder (<synset>_*.JPEG) or CSV of path,label;"
                   " default: scikit-image's sample photos, labelled by the clean prediction")
    p.add_argument("--model", default="efficientnet-lite0",
                   help="efficientnet-lite0..4 or module:callable (torch module, [0,1] NCHW RGB)")
    p.add_argument("--benign", type=int, default=1000, help="benign images for acc_l")
    p.add_argument("--seeds", type=int, default=100,
                   help="seeds: the first N benign images the model classifies correctly")
    p.add_argument("--attack-seeds", default="",
                   help="per-attack seed counts, e.g. cw2=30,deepfool=30,bpda=30")
    p.add_argument("--attacks", default=DEFAULT_ATTACKS,
                   help=f"comma list of {','.join(A.ATTACK_NAMES)}")
    p.add_argument("--defenses", default=DEFAULT_DEFENSES,
                   help=f"comma list of {','.join(DEFENSE_NAMES)}")
    p.add_argument("--slow-subset", type=int, default=200,
                   help="benign images used for acc_l of tvm and quilting (the first N)")
    p.add_argument("--slow-seeds", type=int, default=0,
                   help="score tvm and quilting on only the first N seeds of each attack "
                   "(0: all seeds)")
    p.add_argument("--bpda-eps", default="8", help="BPDA epsilon(s) in 1/255 units, comma list")
    p.add_argument("--bpda-sweep", default="2,4",
                   help="extra BPDA epsilons (1/255) run for the fd rows only")
    p.add_argument("--seed", type=int, default=0, help="random seed (TVM, quilting)")
    p.add_argument("--batch", type=int, default=10, help="attack batch size")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: leave as is)")
    p.add_argument("--cache", default="eval-cache", help="cache folder for adversarial examples")
    p.add_argument("--json", help="write results JSON here (per-seed outcomes beside it)")
    p.add_argument("--out", help="folder for the markdown table and plots")
    p.add_argument("--fig4", action="store_true",
                   help="run the Fig. 4 QS sweeps instead of the tables")
    p.add_argument("--qs", default="5,10,15,20,25,30,40,50,60,80",
                   help="uniform quantization steps for --fig4")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _csv(s):
    return [t.strip() for t in s.split(",") if t.strip()]


def _progress(total, desc, disable):
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    if tqdm is None or disable:
        class _Null:
            def update(self, n=1):
                pass

            def close(self):
                pass
        return _Null()
    return tqdm(total=total, desc=desc, leave=False, file=sys.stderr)


def _git_sha():
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parent, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _versions():
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("fdjpeg", "numpy", "pillow", "torch", "adversarial-robustness-toolbox",
                "scikit-learn", "scikit-image", "efficientnet-lite-pytorch"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = None
    try:
        import fdjpeg

        out["fdjpeg"] = fdjpeg.__version__
    except Exception:
        pass
    return out


def _machine():
    return f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} cpus, " \
           f"torch threads {__import__('torch').get_num_threads()}".replace("  ", " ")


class Evaluation:
    def __init__(self, args, log=print):
        import torch

        from fdjpeg.eval_models import art_classifier, load_model

        self.args, self.log = args, log
        if args.threads:
            torch.set_num_threads(args.threads)
        self.model, self.crop = load_model(args.model)
        self.model_name = args.model
        self.cache_root = Path(args.cache) / args.model.replace(":", "_").replace("/", "_")
        self.classifier = None
        self._art_classifier = lambda: art_classifier(self.model, self.crop)
        self.skipped = {}
        self._load_data()

    # -- data ------------------------------------------------------------------------------
    def _load_data(self):
        from fdjpeg.eval_models import predict

        a = self.args
        quilt_db = None
        if a.images:
            items = D.list_images(a.images)
            if a.benign < 1:
                raise ValueError("--benign must be at least 1")
            bench = items[:a.benign]
            names, images, labels = D.load_images(bench, self.crop)
            # Quilting's patch database: images that are never scored under quilting -- those
            # after the slow subset and the seeds, up to 300 from the end of the folder.
            self.images_desc = str(a.images)
            self._quilt_items = items
        else:
            names, images = D.skimage_photos(self.crop)
            labels = predict(self.model, images)
            self.images_desc = "scikit-image sample photos (" + ",".join(names) + \
                "), labelled by the model's clean prediction"
            self._quilt_items = None
        self.names, self.images, self.labels = names, images, labels
        self.clean_pred = predict(self.model, images)
        correct = np.flatnonzero(self.clean_pred == labels)
        self.seed_idx = correct[:a.seeds]
        if len(self.seed_idx) == 0:
            raise RuntimeError("the model classifies none of the images correctly: no seeds")
        self.quilt_db = quilt_db

    def quilting_db(self):
        if self._quilt_items is None:
            return None
        used = max(self.args.slow_subset, int(self.seed_idx.max()) + 1)
        rest = self._quilt_items[used:]
        if len(rest) < 20:
            return None
        rest = rest[-300:]
        self.quilt_db_desc = f"{len(rest)} images of {self.images_desc} from index " \
                             f"{len(self._quilt_items) - len(rest)} (never scored under quilting)"
        return D.load_images(rest, self.crop)[1]

    # -- helpers ---------------------------------------------------------------------------
    def seeds_for(self, attack):
        n = len(self.seed_idx)
        for item in _csv(self.args.attack_seeds):
            k, _, v = item.partition("=")
            if k.strip() == attack:
                n = min(n, int(v))
        return self.seed_idx[:n]

    @staticmethod
    def _table_key(defs, name):
        # The FD table, not the purify implementation: fdjpeg.purify and the Pillow stand-in are
        # bit-identical by design (tests/test_evaluate.py checks it), so caches survive the switch.
        return np.asarray(defs.table_for(name)).tolist() if name.startswith("fd") else None

    @staticmethod
    def _settings_key(defs, name):
        # only what the caller chose: no implementation names or derived sizes
        return {k: v for k, v in defs.settings(name).items()
                if k not in ("impl", "db_patches", "db_images", "nn", "database")}

    def predict(self, images):
        from fdjpeg.eval_models import predict

        return predict(self.model, images)

    def benign_preds(self, defs, name, idx):
        """Predictions of the defended benign images idx (cached)."""
        key = A._key(self.model_name, name, self._settings_key(defs, name),
                     self._table_key(defs, name),
                     A.images_key([self.names[i] for i in idx], self.images[idx]))
        cache = A.Cache(self.cache_root, f"benign-{name}", key, len(idx), (), np.int64)
        f = defs.get(name)
        bar = _progress(len(idx), f"acc_l {name}", self.args.no_progress)
        for i in range(0, len(idx), 25):
            sl = slice(i, min(i + 25, len(idx)))
            if not cache.done[sl].all():
                x = self.images[idx[sl]]
                if defs.two_pass(name):
                    x = defs.sensor(x, name)
                cache.data[sl] = self.predict(f(x))
                cache.done[sl] = True
                cache.save()
            bar.update(sl.stop - sl.start)
        bar.close()
        return cache.data

    def seconds_per_image(self, defs, name, n=20):
        """Wall seconds per image of the defense alone, measured afresh on n benign images."""
        f = defs.get(name)
        x = np.ascontiguousarray(self.images[:n])
        f(x[:1])  # warm-up (imports, patch database, first-call costs)
        t0 = time.perf_counter()
        for i in range(len(x)):
            f(x[i:i + 1])
        return (time.perf_counter() - t0) / len(x)

    def adversarial(self, attack, seeds, sensor_name=None, defs=None, params=None):
        """uint8 adversarial examples for the seeds (from the sensor images for two-pass)."""
        x = self.images[seeds]
        if sensor_name is not None:
            x = defs.sensor(x, sensor_name)
        y = self.labels[seeds]
        p = A.ATTACK_PARAMS[attack] if params is None else params
        key = A._key(self.model_name, attack, p, A.images_key([self.names[i] for i in seeds], x))
        tag = attack + ("" if sensor_name is None else f"-sensor{sensor_name}")
        cache = A.Cache(self.cache_root, tag, key, len(seeds), x.shape[1:], np.uint8)
        if not cache.done.all():
            if self.classifier is None:
                self.classifier = self._art_classifier()
            bar = _progress(len(seeds), f"{tag}", self.args.no_progress)
            t0 = time.perf_counter()
            A.run_art_attack(attack, self.classifier, x, y, cache, batch=self.args.batch,
                             progress=bar, params=p)
            bar.close()
            self.log(f"  {tag}: {time.perf_counter() - t0:.1f} s for {len(seeds)} seeds")
        return x, cache.data

    def bpda(self, defs, name, seeds, eps255):
        x = self.images[seeds]
        y = self.labels[seeds]
        p = dict(A.ATTACK_PARAMS["bpda"], eps=eps255 / 255.0)
        key = A._key(self.model_name, "bpda", p, name, self._settings_key(defs, name),
                     self._table_key(defs, name),
                     A.images_key([self.names[i] for i in seeds], x))
        cache = A.Cache(self.cache_root, f"bpda{eps255:g}-{name}", key, len(seeds), x.shape[1:],
                        np.uint8)
        if not cache.done.all():
            bar = _progress(len(seeds), f"bpda eps={eps255:g}/255 {name}", self.args.no_progress)
            t0 = time.perf_counter()
            A.bpda(self.model, defs.get(name), x, y, p["eps"], p["step"], p["max_iter"], cache,
                   batch=self.args.batch, progress=bar)
            bar.close()
            self.log(f"  bpda eps={eps255:g}/255 {name}: {time.perf_counter() - t0:.1f} s")
        return x, cache.data

    # -- the tables ------------------------------------------------------------------------
    def run_tables(self):
        a = self.args
        attacks = _csv(a.attacks)
        defenses = _csv(a.defenses)
        for n in attacks:
            if n not in A.ATTACK_NAMES:
                raise ValueError(f"unknown attack {n!r}; known: {', '.join(A.ATTACK_NAMES)}")
        defs = Defenses(seed=a.seed)
        for n in defenses:
            defs.validate(n)
        if "quilting" in defenses:
            db = self.quilting_db()
            if db is None:
                self.skipped["quilting"] = "no patch database of unevaluated images " \
                    "(needs --images with more images than --slow-subset and the seeds)"
                self.log("quilting skipped: " + self.skipped["quilting"])
                defenses = [d for d in defenses if d != "quilting"]
            else:
                defs.quilting_db = db

        res = {"model": self.model_name, "images": self.images_desc,
               "n_benign": int(len(self.images)), "n_seeds": {}, "settings": {},
               "versions": _versions(), "git": _git_sha(), "machine": _machine(),
               "attack_success": {}, "norms": {}, "acc_l": {}, "acc_m": {},
               "seconds_per_image": {}}
        per_seed = {"seed_names": [self.names[i] for i in self.seed_idx],
                    "seed_labels": self.labels[self.seed_idx].tolist(), "outcomes": {}}
        n_acc_l = {}
        n_slow = {}
        self.log(f"{len(self.images)} benign images, {len(self.seed_idx)} seeds; clean top-1 "
                 f"{(self.clean_pred == self.labels).mean():.3f}")

        # acc_l
        for name in defenses:
            idx = np.arange(len(self.images))
            if name in SLOW_DEFENSES:
                idx = idx[:a.slow_subset]
            pred = self.benign_preds(defs, name, idx)
            spi = self.seconds_per_image(defs, name)
            res["acc_l"][name] = float((pred == self.labels[idx]).mean())
            res["seconds_per_image"][name] = float(spi)
            n_acc_l[name] = int(len(idx))
            self.log(f"acc_l {name:9s} {res['acc_l'][name]:.3f} on {len(idx)} "
                     f"({spi * 1000:.1f} ms/img)")

        # gray-box attacks
        for attack in [t for t in attacks if t != "bpda"]:
            seeds = self.seeds_for(attack)
            y = self.labels[seeds]
            res["n_seeds"][attack] = int(len(seeds))
            x, adv = self.adversarial(attack, seeds)
            ok_none = self.predict(adv) == y
            res["attack_success"][attack] = float(1.0 - ok_none.mean())
            res["norms"][attack] = A.norms(x, adv)
            res["acc_m"][attack] = {}
            per_seed["outcomes"][attack] = {}
            adv2 = None
            for name in defenses:
                if defs.two_pass(name):
                    if adv2 is None:
                        x2, adv2 = self.adversarial(attack, seeds, name, defs)
                        ok2 = self.predict(adv2) == y
                        res["attack_success"][attack + "@sensor"] = float(1.0 - ok2.mean())
                        res["norms"][attack + "@sensor"] = A.norms(x2, adv2)
                    ok = self.predict(defs.get(name)(adv2)) == y
                else:
                    m = len(adv)
                    if name in SLOW_DEFENSES and a.slow_seeds > 0:
                        m = min(m, a.slow_seeds)
                        n_slow.setdefault(attack, {})[name] = m
                    ok = self.predict(defs.get(name)(adv[:m])) == y[:m]
                res["acc_m"][attack][name] = float(ok.mean())
                per_seed["outcomes"][attack][name] = ok.astype(int).tolist()
            self.log(f"{attack}: success {res['attack_success'][attack]:.2f}, acc_m " +
                     " ".join(f"{k}={v:.2f}" for k, v in res["acc_m"][attack].items()))

        # BPDA
        if "bpda" in attacks:
            seeds = self.seeds_for("bpda")
            y = self.labels[seeds]
            runs = [(e, name) for e in (float(v) for v in _csv(a.bpda_eps)) for name in defenses]
            runs += [(float(e), name) for e in _csv(a.bpda_sweep) for name in defenses
                     if name.startswith("fd") and float(e) not in
                     [float(v) for v in _csv(a.bpda_eps)]]
            for eps255, name in runs:
                tag = "bpda" if eps255 == float(_csv(a.bpda_eps)[0]) else f"bpda_eps{eps255:g}"
                res["n_seeds"][tag] = int(len(seeds))
                x, adv = self.bpda(defs, name, seeds, eps255)
                ok = self.predict(defs.get(name)(adv)) == y
                res["acc_m"].setdefault(tag, {})[name] = float(ok.mean())
                res["norms"].setdefault(tag, {})[name] = A.norms(x, adv)
                per_seed["outcomes"].setdefault(tag, {})[name] = ok.astype(int).tolist()
                self.log(f"{tag} {name}: acc_m {ok.mean():.2f}")
            res["attack_success"]["bpda"] = float(1.0 - res["acc_m"]["bpda"].get("none", np.nan)) \
                if "none" in res["acc_m"].get("bpda", {}) else None

        res["settings"] = {
            "crop": self.crop, "preprocess": "Pillow bilinear short side to crop*256/224, centre "
            "crop; floats to uint8 by floor(255x+0.5)", "normalisation": "mean=std=0.5 inside "
            "the model" if a.model.startswith("efficientnet") else "inside the given model",
            "seed_rule": "first N benign images classified correctly", "seed": a.seed,
            "attacks": {t: (dict(A.ATTACK_PARAMS[t]) if t != "bpda" else
                            dict(A.ATTACK_PARAMS["bpda"], eps_255=_csv(a.bpda_eps),
                                 sweep_eps_255_fd=_csv(a.bpda_sweep), step_255=1))
                        for t in attacks},
            "defenses": {n: defs.settings(n) for n in defenses},
            "acc_l_images": n_acc_l, "acc_m_seeds_slow_defenses": n_slow,
            "fd_table": defs.table.tolist(), "fd_table_source": defs.table_source,
            "purify": defs.purify_source, "skipped": self.skipped,
        }
        if "quilting" in defenses:
            res["settings"]["defenses"]["quilting"]["database"] = self.quilt_db_desc
        return res, per_seed


# -- Fig. 4 ------------------------------------------------------------------------------------
def run_fig4(ev):
    """QS sweeps with uniform tables: one-/two-pass acc_m (FGSM, BIM), acc_l, Eq. 5 check."""
    a = ev.args
    defs = Defenses(seed=a.seed)
    qs = [int(q) for q in _csv(a.qs)]
    attacks = [t for t in _csv(a.attacks) if t in ("fgsm", "bim")] or ["fgsm"]
    seeds = ev.seed_idx
    y = ev.labels[seeds]
    out = {"model": ev.model_name, "images": ev.images_desc, "qs": qs, "n_seeds": int(len(seeds)),
           "n_benign": int(len(ev.images)), "one_pass": {}, "two_pass": {}, "acc_l": {},
           "eq5": {}, "git": _git_sha(), "versions": _versions(), "machine": _machine(),
           "settings": {t: A.ATTACK_PARAMS[t] for t in attacks}}
    for q in qs:
        pred = ev.benign_preds(defs, f"fdq{q}", np.arange(len(ev.images)))
        out["acc_l"][q] = float((pred == ev.labels).mean())
    for t in attacks:
        _, adv = ev.adversarial(t, seeds)
        out["one_pass"][t] = {q: float((ev.predict(defs.get(f"fdq{q}")(adv)) == y).mean())
                              for q in qs}
        out["two_pass"][t] = {}
        for q in qs:
            _, adv2 = ev.adversarial(t, seeds, f"fd2pq{q}", defs)
            out["two_pass"][t][q] = float((ev.predict(defs.get(f"fd2pq{q}")(adv2)) == y).mean())
        ev.log(f"fig4 {t}: one-pass {out['one_pass'][t]} two-pass {out['two_pass'][t]}")
    for eps in (0.005, 0.007, 0.01, 0.012, 0.015):
        p = dict(A.ATTACK_PARAMS["fgsm"], eps=eps)
        # after the uint8 rounding an FGSM step of eps moves each pixel by round(255 eps) levels
        out["eq5"][str(eps)] = {"analytic_qs": 16 * eps * 256,
                                "uint8_levels": int(np.floor(255 * eps + 0.5)), "acc_m": {}}
        for q in qs:
            _, adv2 = ev.adversarial("fgsm", seeds, f"fd2pq{q}", defs, params=p)
            acc = float((ev.predict(defs.get(f"fd2pq{q}")(adv2)) == y).mean())
            out["eq5"][str(eps)]["acc_m"][q] = acc
        ev.log(f"eq5 eps={eps}: {out['eq5'][str(eps)]['acc_m']}")
    return out


def plot_fig4(fig, out_dir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    qs = fig["qs"]
    files = []
    for mode, title in (("one_pass", "one-pass"), ("two_pass", "two-pass")):
        plt.figure(figsize=(5, 3.5))
        for t, accs in fig[mode].items():
            plt.plot(qs, [accs[q] if q in accs else accs[str(q)] for q in qs], "o-", label=t)
        plt.xlabel("uniform quantization step QS")
        plt.ylabel("acc_m (defended adversarial)")
        plt.title(f"Fig. 4{'a' if mode == 'one_pass' else 'b'}: {title} FD, "
                  f"{fig['n_seeds']} seeds")
        plt.ylim(-0.02, 1.02)
        plt.grid(alpha=0.3)
        plt.legend()
        plt.tight_layout()
        f = out_dir / f"fig4{'a' if mode == 'one_pass' else 'b'}_{mode}.png"
        plt.savefig(f, dpi=110)
        plt.close()
        files.append(f)
    plt.figure(figsize=(5, 3.5))
    acc_l = fig["acc_l"]
    plt.plot(qs, [acc_l.get(q, acc_l.get(str(q))) for q in qs], "ko-", label="acc_l")
    for mode in ("one_pass", "two_pass"):
        vals = np.mean([[fig[mode][t].get(q, fig[mode][t].get(str(q))) for q in qs]
                        for t in fig[mode]], axis=0)
        plt.plot(qs, vals, "o--", label=f"acc_m {mode.replace('_', '-')} (mean)")
    plt.xlabel("uniform quantization step QS")
    plt.ylabel("accuracy")
    plt.title(f"Fig. 4c: acc_l ({fig['n_benign']} images) vs acc_m")
    plt.ylim(-0.02, 1.02)
    plt.grid(alpha=0.3)
    plt.legend()
    plt.tight_layout()
    f = out_dir / "fig4c_acc_vs_qs.png"
    plt.savefig(f, dpi=110)
    plt.close()
    files.append(f)
    plt.figure(figsize=(5, 3.5))
    for i, (eps, d) in enumerate(fig["eq5"].items()):
        level = int(np.floor(255 * float(eps) + 0.5))
        line, = plt.plot(qs, [d["acc_m"].get(q, d["acc_m"].get(str(q))) for q in qs], "o-",
                         label=f"eps={eps} (uint8: {level}/255)")
        plt.axvline(d["analytic_qs"], color=line.get_color(), ls=":")
    plt.xlabel("uniform quantization step QS (two-pass)")
    plt.ylabel("acc_m (FGSM)")
    plt.title("Fig. 4e: Eq. 5 check (dotted: 16*eps*256)")
    plt.ylim(-0.02, 1.02)
    plt.grid(alpha=0.3)
    plt.legend(fontsize=7)
    plt.tight_layout()
    f = out_dir / "fig4e_eq5.png"
    plt.savefig(f, dpi=110)
    plt.close()
    files.append(f)
    return files


# -- reporting ---------------------------------------------------------------------------------
def _pct(v):
    return "—" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{100 * v:.0f}"


def markdown(res):
    lines = [f"Model `{res['model']}`; images: {res['images']}; {res['n_benign']} benign images; "
             f"git {res['git'][:10]}; {res['machine']}.", ""]
    gray = [t for t in ("fgsm", "bim", "deepfool", "cw2", "cw0", "cwinf") if t in res["acc_m"]]
    defenses = list(res["acc_l"])
    if gray:
        lines += ["acc_m (%) on adversarial seeds after each defense; in parentheses the "
                  "paper's Table 1 (MobileNet); [n] = scored on the first n seeds (slow defenses) "
                  "or acc_l on the first n images.", ""]
        head = ["defense"] + [f"{t} (n={res['n_seeds'][t]})" for t in gray] + \
            ["average", "acc_l", "ms/img"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for d in defenses:
            paper = PAPER_TABLE1.get(d, {})
            cells = [d]
            vals = []
            for t in gray:
                v = res["acc_m"][t].get(d)
                vals.append(v)
                m = res["settings"].get("acc_m_seeds_slow_defenses", {}).get(t, {}).get(d)
                sub = f" [{m}]" if m else ""
                cells.append(f"{_pct(v)}{sub} ({paper[t]})" if t in paper else _pct(v) + sub)
            avg = np.mean([v for v in vals if v is not None]) if vals else None
            cells.append(_pct(avg))
            al = res["acc_l"].get(d)
            n_l = res["settings"].get("acc_l_images", {}).get(d)
            cells.append(f"{_pct(al)}{'' if n_l in (None, res['n_benign']) else f' [{n_l}]'}"
                         + (f" ({paper['acc_l']})" if "acc_l" in paper else ""))
            ms = 1000 * res["seconds_per_image"].get(d, float("nan"))
            cells.append(f"{ms:.1f}" + (f" ({paper['time'] * 1000:.0f})" if "time" in paper else ""))
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", "Attack success on the undefended model after uint8 rounding, and mean "
                  "perturbation (pixel range [0,1]; L0 = fraction of pixels changed):", "",
                  "| attack | success | L0 | L2 | L∞ (×255) |", "|---|---|---|---|---|"]
        for t, s in res["attack_success"].items():
            if t.startswith("bpda") or t not in res["norms"]:
                continue
            nm = res["norms"][t]
            lines.append(f"| {t} | {_pct(s)}% | {nm['l0_fraction']:.3f} | {nm['l2']:.3f} | "
                         f"{nm['linf_255']:.2f} |")
    bp = [t for t in res["acc_m"] if t.startswith("bpda")]
    if bp:
        lines += ["", "BPDA (identity backward pass, 100 iterations, step 1/255): acc_m (%) and "
                  "acc_l (%); in brackets the paper's Table 2 (Inception-v3).", ""]
        ds = [d for d in defenses if d in res["acc_m"]["bpda"]] if "bpda" in res["acc_m"] else []
        head = ["row"] + ds
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for t in sorted(bp, key=lambda s: (s != "bpda", s)):
            eps = res["settings"]["attacks"]["bpda"]["eps_255"][0] if t == "bpda" else \
                t.replace("bpda_eps", "")
            row = [f"acc_m eps={eps}/255 (n={res['n_seeds'][t]})"]
            for d in ds:
                v = res["acc_m"][t].get(d)
                p = PAPER_TABLE2.get(d)
                row.append(("—" if v is None else _pct(v)) +
                           (f" ({p[0]})" if (p and t == "bpda") else ""))
            lines.append("| " + " | ".join(row) + " |")
        row = ["acc_l"]
        for d in ds:
            p = PAPER_TABLE2.get(d)
            row.append(_pct(res["acc_l"].get(d)) + (f" ({p[1]})" if p else ""))
        lines.append("| " + " | ".join(row) + " |")
    if res["settings"].get("skipped"):
        lines += ["", "Skipped: " + "; ".join(f"{k}: {v}" for k, v in
                                              res["settings"]["skipped"].items())]
    lines += ["", f"FD table T ({res['settings']['fd_table_source']}; purify: "
              f"{res['settings']['purify']}):", "", "```"]
    lines += [" ".join(f"{v:3d}" for v in row) for row in res["settings"]["fd_table"]]
    lines += ["```", ""]
    return "\n".join(lines)


def main(argv=None):
    args = build_parser().parse_args(argv)
    t0 = time.time()

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    try:
        ev = Evaluation(args, log=log)
        if args.fig4:
            res = run_fig4(ev)
            per_seed = None
        else:
            res, per_seed = ev.run_tables()
    except (ValueError, TypeError, RuntimeError, OSError) as e:
        print(f"fdjpeg eval: error: {e}", file=sys.stderr)
        return 2
    res["wall_seconds"] = round(time.time() - t0, 1)
    res["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    text = json.dumps(res, indent=1, default=float)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(text + "\n")
        if per_seed is not None:
            Path(args.json).with_suffix(".seeds.json").write_text(json.dumps(per_seed) + "\n")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        stem = Path(args.json).stem if args.json else ("fig4" if args.fig4 else "eval")
        if args.fig4:
            for f in plot_fig4(res, out):
                log(f"wrote {f}")
        else:
            (out / f"{stem}.md").write_text(markdown(res))
            log(f"wrote {out / (stem + '.md')}")
    if not args.json and not args.fig4:
        print(markdown(res))
    elif not args.json:
        print(text)
    log(f"done in {res['wall_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
