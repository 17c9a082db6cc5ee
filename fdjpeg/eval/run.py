"""``fdjpeg eval``: reproduce the paper's Tables 1 and 2 (and Fig. 4) on an ImageNet model.

Protocol (design-notes §4, paper §4): acc_l on the benign images through each defense; seeds are
the first N images the model classifies correctly; each attack's uint8-rounded examples are
scored through every defense (acc_m).  FD-2P's examples start from the seeds as the "sensor"
encoded them with the FD table.  BPDA attacks each defense through an identity backward pass.

With no ``--images`` it runs on the natural photographs scikit-image ships (the README's main
job; a few minutes on 2 cores).  They carry no ImageNet labels: each is labelled by the model's
own clean prediction, so every score is *agreement* with it, not accuracy, and only the photos
the model classifies with softmax confidence >= ``min_confidence`` (0.5) are attacked.  The
accuracy numbers come from ``--images`` runs on ImageNet (bench/results/table1.md).

A run is configured by :class:`EvalConfig`; ``fdjpeg eval`` builds one from its arguments.
``fdjpeg eval <study>`` runs one of the research modules of this package instead
(:data:`STUDIES`).
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from fdjpeg._progress import progress
from fdjpeg.eval import attacks as A
from fdjpeg.eval import data as D
from fdjpeg.eval.defenses import DEFENSE_NAMES, Defenses
from fdjpeg.eval.report import markdown, plot_fig4, provenance

DEFAULT_ATTACKS = ("fgsm", "bim")
DEFAULT_DEFENSES = ("none", "bit5", "jpeg90", "quilting", "tvm", "fd1p", "fd2p")
SLOW_DEFENSES = ("tvm", "quilting")

# ``fdjpeg eval <study> ...`` -> ``python -m fdjpeg.eval.<module> ...``: the research beyond the
# paper's tables, each writing its own files in bench/results/.
REPO = Path(__file__).resolve().parents[2]  # a checkout: the studies' default corpus and output
IMAGENET_SAMPLE = REPO.parent / "shared" / "corpus" / "imagenet-sample"
RESULTS = REPO / "bench" / "results"
STUDIES = {
    "adaptive-attacks": "adaptive_attacks",   # on-grid attack on FD-2P, SquareAttack through FD
    "search-fd-table": "search_fd_table",     # FD table search on a calibration split
    "offgrid-auc": "offgrid_auc",             # ROC AUC of fdjpeg.detect.offgrid_score
    "design-fd-table": "design_fd_table",     # the shipped band statistics (fd_band_std.json)
    "twopass-grid": "twopass_grid",           # how exactly two-pass FD keeps its grid
    "design": "design",                       # issue 15: per-band design search, frontier
    "adaptive-st": "adaptive_st",             # BPDA through FD's exact torch forward, APGD
}


def _csv(s):
    return [t.strip() for t in s.split(",") if t.strip()]


@dataclasses.dataclass
class EvalConfig:
    """Everything one evaluation run depends on (the flags of ``fdjpeg eval``, typed).

    Lists are tuples; ``attack_seeds`` maps an attack to its seed count; epsilons are in 1/255.
    """
    images: str | None = None       # ImageNet-style folder or CSV; None: scikit-image photos
    model: str = "efficientnet-lite0"
    benign: int = 1000              # benign images for acc_l
    seeds: int = 100                # the first N correctly classified benign images
    attack_seeds: dict = dataclasses.field(default_factory=dict)
    attacks: tuple = DEFAULT_ATTACKS
    defenses: tuple = DEFAULT_DEFENSES
    slow_subset: int = 200          # acc_l of tvm and quilting on the first N images
    slow_seeds: int = 0             # tvm and quilting scored on the first N seeds (0: all)
    bpda_eps: tuple = (8.0,)
    bpda_sweep: tuple = (2.0, 4.0)  # extra BPDA epsilons for the fd rows only
    seed: int = 0                   # random seed (TVM, quilting)
    batch: int = 10
    threads: int = 0                # torch threads (0: leave as is)
    cache: str = "eval-cache"
    json: str | None = None         # results JSON (per-seed outcomes beside it)
    out: str | None = None          # folder for the markdown table and plots
    fig4: bool = False
    qs: tuple = (5, 10, 15, 20, 25, 30, 40, 50, 60, 80)
    progress: bool = True
    min_confidence: float = 0.5     # photos run only: seeds need this softmax confidence
    fd_table: str | None = None     # FD table for the fd* defenses (tables.parse forms); None: "fd"

    @classmethod
    def from_args(cls, ns):
        """From the ``argparse.Namespace`` of :func:`build_parser` (comma lists parsed)."""
        seeds = {}
        for item in _csv(ns.attack_seeds):
            k, _, v = item.partition("=")
            try:
                n = int(v)
            except ValueError:
                raise ValueError(f"--attack-seeds: {item!r} is not attack=N") from None
            seeds[k.strip()] = min(n, seeds.get(k.strip(), n))
        try:
            eps = tuple(float(v) for v in _csv(ns.bpda_eps))
            sweep = tuple(float(v) for v in _csv(ns.bpda_sweep))
            qs = tuple(int(q) for q in _csv(ns.qs))
        except ValueError as e:
            raise ValueError(f"--bpda-eps/--bpda-sweep/--qs: {e}") from None
        return cls(images=ns.images, model=ns.model, benign=ns.benign, seeds=ns.seeds,
                   attack_seeds=seeds, attacks=tuple(_csv(ns.attacks)),
                   defenses=tuple(_csv(ns.defenses)), slow_subset=ns.slow_subset,
                   slow_seeds=ns.slow_seeds, bpda_eps=eps, bpda_sweep=sweep, seed=ns.seed,
                   batch=ns.batch, threads=ns.threads, cache=ns.cache, json=ns.json,
                   out=ns.out, fig4=ns.fig4, qs=qs, progress=not ns.no_progress,
                   min_confidence=ns.min_confidence, fd_table=getattr(ns, "fd_table", None))


def _config_table(config):
    """The FD table(s) of ``config.fd_table`` through the one table vocabulary (None: default)."""
    if config.fd_table is None:
        return None
    from fdjpeg import tables

    tabs = tables.parse(config.fd_table, name="--fd-table")
    if len(tabs) > 2:
        raise ValueError(f"--fd-table: one table or (luma, chroma), got {len(tabs)} tables")
    return tabs[0] if len(tabs) == 1 else np.stack(tabs)


def build_parser():
    p = argparse.ArgumentParser(
        prog="fdjpeg eval",
        description="Evaluate input-transformation defenses (Feature Distillation and baselines) "
                    "against adversarial attacks on an ImageNet model (paper Tables 1-2, Fig. 4).",
        epilog="Research beyond the paper: fdjpeg eval {" + ",".join(STUDIES) + "} [--help] "
               "(the same as python -m fdjpeg.eval.<name with underscores>).")
    p.add_argument("--images", help="ImageNet-style folder (<synset>_*.JPEG) or CSV of path,label;"
                   " default: scikit-image's sample photos, labelled by the model's clean "
                   "prediction (scores are then agreement with it, not accuracy)")
    p.add_argument("--model", default="efficientnet-lite0",
                   help="efficientnet-lite0..4 or module:callable (torch module, [0,1] NCHW RGB)")
    p.add_argument("--benign", type=int, default=1000, help="benign images for acc_l")
    p.add_argument("--seeds", type=int, default=100,
                   help="seeds: the first N benign images the model classifies correctly")
    p.add_argument("--attack-seeds", default="",
                   help="per-attack seed counts, e.g. cw2=30,deepfool=30,bpda=30")
    p.add_argument("--attacks", default=",".join(DEFAULT_ATTACKS),
                   help=f"comma list of {','.join(A.ATTACK_NAMES)}")
    p.add_argument("--defenses", default=",".join(DEFAULT_DEFENSES),
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
    p.add_argument("--fd-table", default=None,
                   help="the FD table of the fd1p/fd2p/fdNx defenses, in any form "
                        "fdjpeg.tables.parse reads (docs/tables.md): 'fd' (default), 'paper', "
                        "'q50', a step, a JSON/cjpeg file; one table, or luma and chroma")
    p.add_argument("--min-confidence", type=float, default=0.5,
                   help="without --images: attack only photos the model classifies with at "
                   "least this softmax probability (default 0.5)")
    return p



class Evaluation:
    """One evaluation: the model, the preprocessed images, their labels and seeds, the caches.

    ``config`` is an :class:`EvalConfig` (an ``argparse.Namespace`` from :func:`build_parser`
    is converted).  The research modules of this package build one and reuse its data, seeds
    and cached adversarial examples.
    """

    def __init__(self, config, log=print):
        import torch

        from fdjpeg.eval.models import art_classifier, load_model

        if not isinstance(config, EvalConfig):
            config = EvalConfig.from_args(config)
        self.config, self.log = config, log
        if config.threads:
            torch.set_num_threads(config.threads)
        self.model, self.crop = load_model(config.model)
        self.model_name = config.model
        self.cache_root = Path(config.cache) / config.model.replace(":", "_").replace("/", "_")
        # what the cache held before this run (0: every example below is built by this run)
        self.cache_files_at_start = len(list(self.cache_root.glob("*.npz"))) \
            if self.cache_root.is_dir() else 0
        self.classifier = None
        self._art_classifier = lambda: art_classifier(self.model, self.crop)
        self.skipped = {}
        self._load_data()

    # -- data ------------------------------------------------------------------------------
    def _load_data(self):
        from fdjpeg.eval.models import predict, predict_confidence

        a = self.config
        quilt_db = None
        self.metric = "accuracy"
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
            self.clean_pred = predict(self.model, images)
            correct = np.flatnonzero(self.clean_pred == labels)
            self.seed_rule = "first N benign images classified correctly"
            self.split = f"evaluation: images 0..{len(bench) - 1} of the sorted list of " \
                f"{a.images} (acc_l on all {len(bench)}; seeds the first correctly classified " \
                "among them)"
        else:
            # No labels: every score is agreement with the model's own clean prediction, and
            # only photos it classifies confidently are attacked (a photo it hesitates on is
            # "fooled" by noise, which says nothing about the defenses).
            names, images = D.skimage_photos(self.crop)
            labels, conf = predict_confidence(self.model, images)
            self.confidence = conf
            self.metric = "agreement"
            self.images_desc = "scikit-image sample photos (" + ",".join(names) + \
                "), labelled by the model's clean prediction: scores are agreement with it, " \
                "not accuracy"
            self._quilt_items = None
            self.clean_pred = labels.copy()
            correct = np.flatnonzero(conf >= a.min_confidence)
            self.seed_rule = f"first N photos the model classifies with softmax confidence >= " \
                             f"{a.min_confidence:g}"
            self.split = "scikit-image sample photos (no ImageNet split)"
        self.names, self.images, self.labels = names, images, labels
        self.seed_idx = correct[:a.seeds]
        if len(self.seed_idx) == 0:
            if self.metric == "agreement":
                raise RuntimeError(f"the model classifies none of the photos with confidence >= "
                                   f"{a.min_confidence:g}: no seeds (lower --min-confidence)")
            raise RuntimeError("the model classifies none of the images correctly: no seeds")
        self.quilt_db = quilt_db

    def quilting_db(self):
        if self._quilt_items is None:
            return None
        used = max(self.config.slow_subset, int(self.seed_idx.max()) + 1)
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
        if attack in self.config.attack_seeds:
            n = min(n, int(self.config.attack_seeds[attack]))
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
        from fdjpeg.eval.models import predict

        return predict(self.model, images)

    def benign_preds(self, defs, name, idx):
        """Predictions of the defended benign images idx (cached)."""
        key = A._key(self.model_name, name, self._settings_key(defs, name),
                     self._table_key(defs, name),
                     A.images_key([self.names[i] for i in idx], self.images[idx]))
        cache = A.Cache(self.cache_root, f"benign-{name}", key, len(idx), (), np.int64)
        f = defs.get(name)
        bar = progress(len(idx), f"acc_l {name}", self.config.progress, leave=False)
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
            bar = progress(len(seeds), f"{tag}", self.config.progress, leave=False)
            t0 = time.perf_counter()
            A.run_art_attack(attack, self.classifier, x, y, cache, batch=self.config.batch,
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
            bar = progress(len(seeds), f"bpda eps={eps255:g}/255 {name}", self.config.progress,
                           leave=False)
            t0 = time.perf_counter()
            A.bpda(self.model, defs.get(name), x, y, p["eps"], p["step"], p["max_iter"], cache,
                   batch=self.config.batch, progress=bar)
            bar.close()
            self.log(f"  bpda eps={eps255:g}/255 {name}: {time.perf_counter() - t0:.1f} s")
        return x, cache.data

    # -- the tables ------------------------------------------------------------------------
    @staticmethod
    def same_defenses(defs, names):
        """{name: earlier name} for FD defenses that are the same transform as an earlier one in
        ``names`` (same table, same one-/two-pass): computed once, reported under both names."""
        seen, same = {}, {}
        for n in names:
            if not n.startswith("fd"):
                continue
            sig = (json.dumps(np.asarray(defs.table_for(n)).tolist()), defs.two_pass(n))
            if sig in seen:
                same[n] = seen[sig]
            else:
                seen[sig] = n
        return same

    def run_tables(self):
        a = self.config
        attacks = list(a.attacks)
        defenses = list(a.defenses)
        requested = list(defenses)
        for n in attacks:
            if n not in A.ATTACK_NAMES:
                raise ValueError(f"unknown attack {n!r}; known: {', '.join(A.ATTACK_NAMES)}")
        defs = Defenses(table=_config_table(a), seed=a.seed)
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
        same = self.same_defenses(defs, defenses)
        defenses = [d for d in defenses if d not in same]

        res = {"model": self.model_name, "images": self.images_desc, "metric": self.metric,
               "split": self.split, "n_benign": int(len(self.images)), "n_seeds": {},
               "settings": {},
               **provenance(), "attack_success": {}, "norms": {}, "acc_l": {}, "acc_m": {},
               "seconds_per_image": {}}
        per_seed = {"seed_names": [self.names[i] for i in self.seed_idx],
                    "seed_labels": self.labels[self.seed_idx].tolist(), "outcomes": {}}
        n_acc_l = {}
        n_slow = {}
        if self.metric == "agreement":
            self.log(f"{len(self.images)} photos, {len(self.seed_idx)} seeds ({self.seed_rule}); "
                     "scores are agreement with the model's clean predictions, not accuracy")
        else:
            self.log(f"{len(self.images)} benign images, {len(self.seed_idx)} seeds; clean top-1 "
                     f"{(self.clean_pred == self.labels).mean():.3f}")
        l_name, m_name = ("agree_l", "agree_m") if self.metric == "agreement" else \
            ("acc_l", "acc_m")

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
            self.log(f"{l_name} {name:9s} {res['acc_l'][name]:.3f} on {len(idx)} "
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
            for name in defenses:
                if defs.two_pass(name):
                    # each two-pass defense attacked from its own sensor image (encoded with its
                    # own table); the first one's numbers keep the key "<attack>@sensor"
                    x2, adv2 = self.adversarial(attack, seeds, name, defs)
                    ok2 = self.predict(adv2) == y
                    key = attack + "@sensor"
                    if key in res["attack_success"]:
                        key += f"_{name}"
                    res["attack_success"][key] = float(1.0 - ok2.mean())
                    res["norms"][key] = A.norms(x2, adv2)
                    ok = self.predict(defs.get(name)(adv2)) == y
                else:
                    m = len(adv)
                    if name in SLOW_DEFENSES and a.slow_seeds > 0:
                        m = min(m, a.slow_seeds)
                        n_slow.setdefault(attack, {})[name] = m
                    ok = self.predict(defs.get(name)(adv[:m])) == y[:m]
                res["acc_m"][attack][name] = float(ok.mean())
                per_seed["outcomes"][attack][name] = ok.astype(int).tolist()
            self.log(f"{attack}: success {res['attack_success'][attack]:.2f}, {m_name} " +
                     " ".join(f"{k}={v:.2f}" for k, v in res["acc_m"][attack].items()))

        # BPDA
        if "bpda" in attacks:
            seeds = self.seeds_for("bpda")
            y = self.labels[seeds]
            runs = [(e, name) for e in a.bpda_eps for name in defenses]
            runs += [(e, name) for e in a.bpda_sweep for name in defenses
                     if name.startswith("fd") and e not in a.bpda_eps]
            for eps255, name in runs:
                tag = "bpda" if eps255 == a.bpda_eps[0] else f"bpda_eps{eps255:g}"
                res["n_seeds"][tag] = int(len(seeds))
                x, adv = self.bpda(defs, name, seeds, eps255)
                ok = self.predict(defs.get(name)(adv)) == y
                res["acc_m"].setdefault(tag, {})[name] = float(ok.mean())
                res["norms"].setdefault(tag, {})[name] = A.norms(x, adv)
                per_seed["outcomes"].setdefault(tag, {})[name] = ok.astype(int).tolist()
                self.log(f"{tag} {name}: {m_name} {ok.mean():.2f}")
            res["attack_success"]["bpda"] = float(1.0 - res["acc_m"]["bpda"].get("none", np.nan)) \
                if "none" in res["acc_m"].get("bpda", {}) else None

        # defenses that are the same transform as an earlier one: its numbers under both names
        order = [d for d in requested if d in defenses or d in same]
        for alias, src in same.items():
            for part in ("acc_l", "seconds_per_image"):
                res[part][alias] = res[part][src]
            n_acc_l[alias] = n_acc_l[src]
            for t in res["acc_m"]:
                if src in res["acc_m"][t]:
                    res["acc_m"][t][alias] = res["acc_m"][t][src]
                    per_seed["outcomes"][t][alias] = per_seed["outcomes"][t][src]
                if src in res["norms"].get(t, {}) and isinstance(res["norms"][t].get(src), dict):
                    res["norms"][t][alias] = res["norms"][t][src]
        for part in ("acc_l", "seconds_per_image"):
            res[part] = {d: res[part][d] for d in order if d in res[part]}
        for t in res["acc_m"]:
            res["acc_m"][t] = {d: res["acc_m"][t][d] for d in order if d in res["acc_m"][t]}
        defenses = order

        res["settings"] = {
            "crop": self.crop, "preprocess": "Pillow bilinear short side to crop*256/224, centre "
            "crop; floats to uint8 by floor(255x+0.5)", "normalisation": "mean=std=0.5 inside "
            "the model" if a.model.startswith("efficientnet") else "inside the given model",
            "seed_rule": self.seed_rule, "seed": a.seed,
            "attacks": {t: (dict(A.ATTACK_PARAMS[t]) if t != "bpda" else
                            dict(A.ATTACK_PARAMS["bpda"], eps_255=[f"{e:g}" for e in a.bpda_eps],
                                 sweep_eps_255_fd=[f"{e:g}" for e in a.bpda_sweep], step_255=1))
                        for t in attacks},
            "defenses": {n: defs.settings(n) for n in defenses},
            "acc_l_images": n_acc_l, "acc_m_seeds_slow_defenses": n_slow,
            "fd_table": defs.table.tolist(), "fd_table_source": defs.table_source,
            "purify": defs.purify_source, "skipped": self.skipped,
            "same_as": {k: f"{v}: the same table and passes, computed once and reported under "
                        "both names" for k, v in same.items()},
            "cache": str(self.cache_root), "cache_files_at_start": self.cache_files_at_start,
        }
        if self.metric == "agreement":
            res["settings"]["min_confidence"] = a.min_confidence
            res["settings"]["seed_confidence"] = [round(float(self.confidence[i]), 4)
                                                  for i in self.seed_idx]
        if "quilting" in defenses:
            res["settings"]["defenses"]["quilting"]["database"] = self.quilt_db_desc
        return res, per_seed


# -- Fig. 4 ------------------------------------------------------------------------------------
def run_fig4(ev):
    """QS sweeps with uniform tables: one-/two-pass acc_m (FGSM, BIM), acc_l, Eq. 5 check."""
    a = ev.config
    defs = Defenses(table=_config_table(a), seed=a.seed)
    qs = list(a.qs)
    attacks = [t for t in a.attacks if t in ("fgsm", "bim")] or ["fgsm"]
    seeds = ev.seed_idx
    y = ev.labels[seeds]
    out = {"model": ev.model_name, "images": ev.images_desc, "qs": qs, "n_seeds": int(len(seeds)),
           "n_benign": int(len(ev.images)), "one_pass": {}, "two_pass": {}, "acc_l": {},
           "eq5": {}, **provenance(),
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



def study_parser(doc):
    """The parser of a study on the ImageNet sample: --images, --threads, --cache, --out."""
    p = argparse.ArgumentParser(description=doc.split("\n")[0])
    p.add_argument("--images", default=str(IMAGENET_SAMPLE))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--cache", default=str(REPO / "eval-cache"))
    p.add_argument("--out", default=str(RESULTS))
    return p


def study_evaluation(a, benign, seeds):
    """A quiet :class:`Evaluation` of ``a.images`` for a study; None (said on stderr) without it."""
    if not Path(a.images).is_dir():
        print(f"no images at {a.images}: the ImageNet sample corpus is needed", file=sys.stderr)
        return None
    return Evaluation(EvalConfig(images=a.images, benign=benign, seeds=seeds, threads=a.threads,
                                 cache=a.cache, progress=False), log=lambda m: None)


def run_study(name, argv):
    """``fdjpeg eval <study> ...``: the research module's own ``main``."""
    mod = importlib.import_module(f"fdjpeg.eval.{STUDIES[name]}")
    return mod.main(list(argv))


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in STUDIES:
        return run_study(argv[0], argv[1:])
    ns = build_parser().parse_args(argv)
    t0 = time.time()

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    try:
        args = EvalConfig.from_args(ns)
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
    res["command"] = "fdjpeg eval " + shlex.join(argv)
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
