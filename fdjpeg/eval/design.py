"""Design FD for a small clean cost: per-band tables (luma/chroma), label-free adaptation, Pareto.

    python -m fdjpeg.eval.design --stage all --json bench/results/design.json

Protocol (issue #15): every design decision is taken on the CALIBRATION split (images 500..999
of the sorted ImageNet sample); every reported number comes from the EVALUATION split (images
0..499; acc_l on the 500, FGSM/BIM seeds = the first 100 the undefended model classifies
correctly, the Table 1 seeds).  Gray-box as in Table 1: FGSM and BIM (eps 2/255) are crafted on
the model the defender deploys (the adapted one when adaptation is used) from the seed (FD-1P)
or from the sensor image purify(seed, T) (FD-2P), rounded to uint8, then purified and classified.

Stages (each resumable: model outputs, adversarial examples and adapted weights are cached under
``--cache``, default /tmp/fd-cache):
  sens    per-band sensitivity on calibration: for each zigzag diagonal of luma and of chroma,
          the clean cost (KL to the clean prediction, calibration images) removed and the
          robustness (FD-1P FGSM/BIM true-class log-probability, calibration seeds) lost when
          that band group alone is refined from the paper's table;
  search  greedy refinement along the sensitivity ranking, then chroma coarsening and the Eq. 5
          floor, scored on calibration (acc_l on 500 images, FD-1P FGSM/BIM on 100 seeds);
  eval    the paper's table, the searched candidates (with and without adapt()), JPEG
          qualities and bit depths on the evaluation split;
  plot    the Pareto figure (acc_l against mean acc_m).
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import fdjpeg
from fdjpeg import eval_attacks as A
from fdjpeg import eval_data as D
from fdjpeg.eval_models import art_classifier, load_model

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus" / "imagenet-sample"
EVAL = (0, 500)
CAL = (500, 1000)
N_SEEDS = 100
ATTACKS = ("fgsm", "bim")
GRID = (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 35, 40, 50, 60, 80, 100)


def log(msg):
    print(f"[{datetime.datetime.now().strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _sha(*parts):
    h = hashlib.sha1()
    for p in parts:
        if isinstance(p, np.ndarray):
            h.update(str(p.shape).encode() + str(p.dtype).encode())
            h.update(np.ascontiguousarray(p).tobytes())
        else:
            h.update(json.dumps(p, sort_keys=True, default=str).encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def git_info():
    def run(*cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                                  timeout=20).stdout
        except (OSError, subprocess.SubprocessError):
            return ""
    return {"git": run("git", "rev-parse", "HEAD").strip(),
            "git_dirty": bool(run("git", "status", "--porcelain", "--untracked-files=no").strip())}


def versions():
    import importlib.metadata as md

    out = {"python": platform.python_version(), "fdjpeg": fdjpeg.__version__}
    for pkg in ("numpy", "pillow", "torch", "adversarial-robustness-toolbox",
                "efficientnet-lite-pytorch"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = None
    return out


def machine():
    import torch

    return f"{platform.machine()} {os.cpu_count()} cpus (shared with other jobs), " \
           f"torch threads {torch.get_num_threads()}"


# -- tables ------------------------------------------------------------------------------------

def paper_table():
    return np.asarray(fdjpeg.tables.feature_distillation(), dtype=np.int64).reshape(8, 8)


DIAG = np.add.outer(np.arange(8), np.arange(8))  # zigzag diagonal u + v of each band


def as_purify_table(design):
    lum = np.asarray(design["luma"], dtype=np.int64).reshape(8, 8)
    chro = np.asarray(design["chroma"], dtype=np.int64).reshape(8, 8)
    return lum if np.array_equal(lum, chro) else [lum, chro]


def design_key(design):
    return _sha(np.asarray(design["luma"]).tolist(), np.asarray(design["chroma"]).tolist(),
                design.get("adapt"))


# -- the harness -------------------------------------------------------------------------------

class Harness:
    def __init__(self, model_name="efficientnet-lite0", cache="/tmp/fd-cache", threads=1,
                 corpus=CORPUS):
        import torch

        torch.set_num_threads(threads)
        self.torch = torch
        self.model_name = model_name
        self.cache = Path(cache) / model_name
        self.cache.mkdir(parents=True, exist_ok=True)
        self.model, self.crop = load_model(model_name)
        self.corpus = Path(corpus)
        self._load_images()
        self.models = {"base": self.model}
        self.clean = {}
        self.seeds = {}
        for split, (a, b) in (("eval", EVAL), ("cal", CAL)):
            lg = self.logits("base", self.images[a:b])
            pred = lg.argmax(1)
            self.clean[split] = float((pred == self.labels[a:b]).mean())
            self.seeds[split] = a + np.flatnonzero(pred == self.labels[a:b])[:N_SEEDS]
        log(f"clean top-1: eval {self.clean['eval']:.3f}, cal {self.clean['cal']:.3f}")

    def _load_images(self):
        f = self.cache / f"images-{self.crop}.npz"
        items = D.list_images(self.corpus)
        if len(items) < CAL[1]:
            raise RuntimeError(f"need {CAL[1]} images in {self.corpus}, found {len(items)}")
        if f.exists():
            z = np.load(f)
            self.images, self.labels, self.names = z["images"], z["labels"], list(z["names"])
        else:
            self.names, self.images, self.labels = D.load_images(items[:CAL[1]], self.crop)
            np.savez(f, images=self.images, labels=self.labels, names=np.array(self.names))
        if [os.path.basename(p) for p, _ in items[:CAL[1]]] != list(self.names):
            raise RuntimeError(f"stale image cache {f}; delete it")

    # -- models ------------------------------------------------------------------------------
    def get_model(self, adapt_spec, table):
        """The deployed model: the base model, or adapt(base, calibration images, table)."""
        if not adapt_spec:
            return "base", self.model
        tag = "adapt-" + _sha(adapt_spec, np.asarray(table).tolist() if not isinstance(table, list)
                              else [np.asarray(t).tolist() for t in table])
        if tag in self.models:
            return tag, self.models[tag]
        import copy

        from fdjpeg.torch import adapt

        f = self.cache / f"{tag}.pt"
        if f.exists():
            m = copy.deepcopy(self.model)
            m.load_state_dict(self.torch.load(f, weights_only=True))
        else:
            a, b = CAL
            n = adapt_spec.get("n_images", 400)
            t0 = time.time()
            kw = {k: v for k, v in adapt_spec.items() if k != "n_images"}
            m = adapt(self.model, self.images[a:a + n], table=table, log=log, **kw)
            self.torch.save(m.state_dict(), f)
            log(f"adapted {tag} on {n} calibration images in {time.time() - t0:.0f} s")
        m.eval()
        for p in m.parameters():
            p.requires_grad_(False)
        self.models[tag] = m
        return tag, m

    def logits(self, mtag, images, batch=25):
        key = _sha(mtag, images)
        f = self.cache / f"logits-{key}.npy"
        if f.exists():
            return np.load(f)
        model = self.models[mtag]
        out = []
        with self.torch.no_grad():
            for i in range(0, len(images), batch):
                x = self.torch.from_numpy(np.ascontiguousarray(
                    images[i:i + batch].transpose(0, 3, 1, 2))).float() / 255.0
                out.append(model(x).numpy().astype(np.float32))
        lg = np.concatenate(out) if out else np.zeros((0, 1000), np.float32)
        np.save(f, lg)
        return lg

    def attack(self, mtag, name, x, y, params=None):
        p = A.attack_params(name, params)
        key = _sha(self.model_name, mtag, name, p, x)
        cache = A.Cache(self.cache, f"adv-{name}", key, len(x), x.shape[1:], np.uint8)
        if not cache.done.all():
            t0 = time.time()
            clf = art_classifier(self.models[mtag], self.crop)
            A.run_art_attack(name, clf, x, y, cache, batch=10, params=p)
            log(f"  {name} on {mtag}: {len(x)} seeds in {time.time() - t0:.0f} s")
        return cache.data

    # -- scores ------------------------------------------------------------------------------
    def acc(self, mtag, images, labels):
        return (self.logits(mtag, images).argmax(1) == labels)

    def score(self, design, split="eval", two_pass=True, seeds_n=N_SEEDS, acc_l_n=None):
        """acc_l and FD-1P / FD-2P acc_m under FGSM and BIM for one design on one split."""
        table = as_purify_table(design)
        mtag, _ = self.get_model(design.get("adapt"), table)
        a, b = EVAL if split == "eval" else CAL
        if acc_l_n:
            b = a + acc_l_n
        imgs, labs = self.images[a:b], self.labels[a:b]
        res = {"acc_l": float(self.acc(mtag, fdjpeg.purify(imgs, table), labs).mean()),
               "acc_l_n": int(b - a), "model": mtag}
        if mtag != "base":
            res["acc_clean_adapted"] = float(self.acc(mtag, imgs, labs).mean())
        seeds = self.seeds[split][:seeds_n]
        x, y = self.images[seeds], self.labels[seeds]
        res["n_seeds"] = int(len(seeds))
        outcomes = {}
        for att in ATTACKS:
            adv = self.attack(mtag, att, x, y)
            ok = self.acc(mtag, fdjpeg.purify(adv, table), y)
            res[f"fd1p_{att}"] = float(ok.mean())
            outcomes[f"fd1p_{att}"] = ok.astype(int).tolist()
            if two_pass:
                sensor = fdjpeg.purify(x, table)
                adv2 = self.attack(mtag, att, sensor, y)
                ok2 = self.acc(mtag, fdjpeg.purify(adv2, table), y)
                res[f"fd2p_{att}"] = float(ok2.mean())
                outcomes[f"fd2p_{att}"] = ok2.astype(int).tolist()
        res["fd1p_avg"] = float(np.mean([res[f"fd1p_{t}"] for t in ATTACKS]))
        if two_pass:
            res["fd2p_avg"] = float(np.mean([res[f"fd2p_{t}"] for t in ATTACKS]))
        res["outcomes"] = outcomes
        return res

    def score_baseline(self, name, split="eval"):
        """acc_l and one-pass acc_m (FGSM/BIM crafted on the base model) of a jpegQ/bitN defense."""
        from fdjpeg.eval_defenses import Defenses

        f = Defenses().get(name)
        a, b = EVAL if split == "eval" else CAL
        res = {"acc_l": float(self.acc("base", f(self.images[a:b]), self.labels[a:b]).mean())}
        seeds = self.seeds[split]
        x, y = self.images[seeds], self.labels[seeds]
        for att in ATTACKS:
            res[att] = float(self.acc("base", f(self.attack("base", att, x, y)), y).mean())
        res["avg"] = float(np.mean([res[t] for t in ATTACKS]))
        res["n_seeds"] = int(len(seeds))
        return res


# -- sensitivity and search on calibration ----------------------------------------------------

def groups():
    return [(ch, d) for ch in ("luma", "chroma") for d in range(15)]


def with_group(design, g, value=None, factor=None):
    ch, d = g
    t = np.asarray(design[ch], dtype=np.int64).copy()
    m = DIAG == d
    t[m] = value if value is not None else np.maximum(1, np.rint(t[m] * factor)).astype(np.int64)
    return dict(design, **{ch: t})


def proxies(h, design, n_clean=64, n_seeds=50):
    """(clean KL to the clean prediction, mean true-class log-prob of FD-1P adversarials) on
    calibration: smooth stand-ins for acc_l and acc_m, cheap enough to rank 30 band groups."""
    table = as_purify_table(design)
    a = CAL[0]
    imgs = h.images[a:a + n_clean]
    p0 = _log_softmax(h.logits("base", imgs))
    p1 = _log_softmax(h.logits("base", fdjpeg.purify(imgs, table)))
    kl = float((np.exp(p0) * (p0 - p1)).sum(1).mean())
    seeds = h.seeds["cal"]
    x, y = h.images[seeds], h.labels[seeds]
    lp = []
    for att in ATTACKS:
        adv = h.attack("base", att, x, y)[:n_seeds]  # the same cached examples cal_score uses
        y = h.labels[seeds[:n_seeds]]
        lp.append(_log_softmax(h.logits("base", fdjpeg.purify(adv, table)))[np.arange(len(y)), y])
    return kl, float(np.mean(lp))


def _log_softmax(z):
    z = z.astype(np.float64)
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def sensitivity(h, base, refine=1 / 3):
    kl0, r0 = proxies(h, base)
    rows = []
    for g in groups():
        d = with_group(base, g, factor=refine)
        kl, r = proxies(h, d)
        rows.append({"group": list(g), "bands": int((DIAG == g[1]).sum()),
                     "kl_gain": kl0 - kl, "robust_loss": r0 - r})
        log(f"  sens {g}: KL gain {kl0 - kl:+.4f}, robustness (log p) loss {r0 - r:+.4f}")
    return {"base_kl": kl0, "base_logp": r0, "refine_factor": refine, "rows": rows}


def cal_score(h, design):
    s = h.score(design, split="cal", two_pass=False)
    return {"acc_l": s["acc_l"], "fd1p_fgsm": s["fd1p_fgsm"], "fd1p_bim": s["fd1p_bim"],
            "fd1p_avg": s["fd1p_avg"], "drop": h.clean["cal"] - s["acc_l"]}


# -- stages ------------------------------------------------------------------------------------

def load_state(path):
    p = Path(path)
    return json.loads(p.read_text()) if p.exists() else {}


def save_state(path, state):
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1, default=_jsonable) + "\n")
    os.replace(tmp, p)


def _jsonable(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    raise TypeError(type(o))


def paper_design():
    t = paper_table()
    return {"name": "paper", "luma": t, "chroma": t, "adapt": None}


def stage_sens(h, st):
    if "sensitivity" not in st:
        t0 = time.time()
        st["sensitivity"] = sensitivity(h, paper_design())
        st["sensitivity"]["seconds"] = round(time.time() - t0)
    return st


def stage_search(h, st, budget=0.02):
    """Greedy refinement of the paper's table along the sensitivity ranking (best clean gain per
    unit of robustness lost first), each prefix scored on calibration, then chroma coarsening and
    the Eq. 5 floor on the high-frequency luma bands."""
    sens = st["sensitivity"]
    srch = st.setdefault("search", {"budget": budget, "path": []})
    rows = sorted(sens["rows"], key=lambda r: -(r["kl_gain"] / max(r["robust_loss"], 1e-3)))
    srch["order"] = [r["group"] for r in rows if r["kl_gain"] > 0]
    done = {json.dumps(p["steps"]) for p in srch["path"]}
    base = paper_design()
    if not any(p["steps"] == [] for p in srch["path"]):
        srch["path"].append({"steps": [], **cal_score(h, base)})
    cur = base
    for k, g in enumerate(srch["order"], 1):
        cur = with_group(cur, tuple(g), factor=sens["refine_factor"])
        steps = srch["order"][:k]
        if k in (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 18, 22, 26, 30) and json.dumps(steps) not in done:
            sc = cal_score(h, cur)
            srch["path"].append({"steps": steps, **sc, "luma": cur["luma"], "chroma": cur["chroma"]})
            log(f"  search k={k}: cal acc_l {sc['acc_l']:.3f} (drop {100 * sc['drop']:.1f}), "
                f"fd1p {sc['fd1p_fgsm']:.2f}/{sc['fd1p_bim']:.2f}")
            yield st
    return st


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m fdjpeg.eval.design", description=__doc__.split("\n")[0])
    ap.add_argument("--stage", default="all")
    ap.add_argument("--model", default="efficientnet-lite0")
    ap.add_argument("--cache", default=os.environ.get("FD_CACHE", "/tmp/fd-cache"))
    ap.add_argument("--state", default="/tmp/fd-cache/design-state.json")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    h = Harness(a.model, a.cache, a.threads)
    st = load_state(a.state)
    if a.stage in ("sens", "all"):
        st = stage_sens(h, st)
        save_state(a.state, st)
    if a.stage in ("search", "all"):
        for st in stage_search(h, st):
            save_state(a.state, st)
    return 0


if __name__ == "__main__":
    sys.exit(main())
