"""White-box attacks on FD through its straight-through torch forward (Table 2's adaptive rows).

``bpda_st``: Table 2's BPDA loop (L-inf sign steps, per-image stop at the first iterate whose
defended version is misclassified) with the gradient taken through
:func:`fdjpeg.torch.fd_forward` -- FD's exact forward with straight-through roundings -- instead
of the identity.  ``apgd``: ART's AutoProjectedGradientDescent (cross-entropy or DLR loss) on the
model ``model(fd_forward(x, T))``.  Every output is rounded to uint8 and scored through
``fdjpeg.purify`` (the forward of the approximation equals it pixel for pixel).

    python -m fdjpeg.eval.adaptive_st --json bench/results/table2_adaptive.json

runs both on the Table 2 seeds (the first 30 images of the ImageNet sample the undefended
EfficientNet-Lite0 classifies correctly) for FD 1x/2x/3x (k times the package's FD table), with
the keys of ``table2.json``'s ``acc_m``: ``bpda_st`` (eps 8/255), ``bpda_st_eps2``,
``bpda_st_eps4``, ``apgd_ce``, ``apgd_dlr``.  Resumable: adversarial examples are cached per
(attack, parameters, defense, seeds) under ``--cache``.
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import numpy as np

from fdjpeg.eval_data import to_uint8

BPDA_ST = {"impl": "fdjpeg._attacks_st.bpda_st (straight-through FD forward, sign steps, L-inf)",
           "step": 1.0 / 255.0, "max_iter": 100,
           "stop": "per image at the first iterate that fools the defended model"}
APGD = {"impl": "art AutoProjectedGradientDescent on model(fd_forward(x, T))", "norm": "inf",
        "eps": 8.0 / 255.0, "eps_step": 2.0 / 255.0, "max_iter": 50, "nb_random_init": 1}


def _defended(model, table):
    import torch

    from fdjpeg.torch import FeatureDistillationST

    return torch.nn.Sequential(FeatureDistillationST(table), model).eval()


def bpda_st(model, table, seeds_u8, labels, eps, step=1.0 / 255.0, max_iter=100, cache=None,
            batch=10):
    """BPDA through the straight-through FD forward; returns uint8 NHWC examples.

    x <- clip_eps(x + step * sign(grad_x CE(model(fd_forward(uint8(x), T)), y))); each image stops
    at the first iterate whose defended prediction is wrong and keeps it.  ``cache``: an
    ``fdjpeg.eval_attacks.Cache`` filled batch by batch (resumable), or None.
    """
    import torch

    seeds_u8 = np.ascontiguousarray(seeds_u8, dtype=np.uint8)
    labels = np.asarray(labels, dtype=np.int64)
    net = _defended(model, table)
    n = len(seeds_u8)
    out = np.empty_like(seeds_u8) if cache is None else cache.data
    for i in range(0, n, batch):
        sl = slice(i, min(i + batch, n))
        if cache is not None and cache.done[sl].all():
            continue
        x0 = seeds_u8[sl].astype(np.float64) / 255.0
        x = x0.copy()
        y = torch.from_numpy(labels[sl])
        alive = np.ones(len(x), dtype=bool)
        for it in range(max_iter + 1):
            idx = np.flatnonzero(alive)
            xu8 = to_uint8(x[idx])
            t = torch.from_numpy(np.ascontiguousarray(xu8.transpose(0, 3, 1, 2))).float() / 255.0
            t.requires_grad_(True)
            logits = net(t)
            pred = logits.argmax(1).detach().numpy()
            now = pred != labels[sl][idx]
            x[idx] = xu8 / 255.0  # the iterate is its uint8 rounding
            if it == max_iter or now.all():
                break
            loss = torch.nn.functional.cross_entropy(logits, y[idx], reduction="sum")
            (g,) = torch.autograd.grad(loss, t)
            g = np.sign(g.numpy().transpose(0, 2, 3, 1)).astype(np.float64)
            alive[idx[now]] = False
            keep = idx[~now]
            x[keep] = np.clip(np.clip(x[keep] + step * g[~now], x0[keep] - eps, x0[keep] + eps),
                              0.0, 1.0)
        out[sl] = to_uint8(x)
        if cache is not None:
            cache.done[sl] = True
            cache.save()
    return out


def apgd(model, table, seeds_u8, labels, loss="ce", eps=8.0 / 255.0, eps_step=2.0 / 255.0,
         max_iter=50, nb_random_init=1, cache=None, batch=10, seed=0):
    """ART's APGD (loss "ce" or "dlr") through the straight-through FD forward; uint8 NHWC out."""
    import torch
    from art.attacks.evasion import AutoProjectedGradientDescent
    from art.estimators.classification import PyTorchClassifier

    if loss not in ("ce", "dlr"):
        raise ValueError(f"loss must be 'ce' or 'dlr', not {loss!r}")
    seeds_u8 = np.ascontiguousarray(seeds_u8, dtype=np.uint8)
    labels = np.asarray(labels, dtype=np.int64)
    n, hgt, wid, _ = seeds_u8.shape
    net = _defended(model, table)
    with torch.no_grad():
        nb = int(net(torch.zeros(1, 3, hgt, wid)).shape[1])
    clf = PyTorchClassifier(model=net, loss=torch.nn.CrossEntropyLoss(), input_shape=(3, hgt, wid),
                            nb_classes=nb, clip_values=(0.0, 1.0), device_type="cpu")
    att = AutoProjectedGradientDescent(
        clf, norm=np.inf, eps=eps, eps_step=eps_step, max_iter=max_iter, targeted=False,
        nb_random_init=nb_random_init, batch_size=batch, verbose=False,
        loss_type="cross_entropy" if loss == "ce" else "difference_logits_ratio")
    out = np.empty_like(seeds_u8) if cache is None else cache.data
    for i in range(0, n, batch):
        sl = slice(i, min(i + batch, n))
        if cache is not None and cache.done[sl].all():
            continue
        np.random.seed(seed + i)  # ART draws the random start from np.random
        x = seeds_u8[sl].transpose(0, 3, 1, 2).astype(np.float32) / 255.0
        y = np.eye(nb, dtype=np.float32)[labels[sl]]
        adv = att.generate(x=x, y=y)
        # the uint8 rounding may step past eps by half a level: clip back to the L-inf ball
        adv_u8 = to_uint8(adv).transpose(0, 2, 3, 1).astype(np.int64)
        lim = int(np.floor(eps * 255.0 + 1e-9))
        s = seeds_u8[sl].astype(np.int64)
        out[sl] = np.clip(adv_u8, s - lim, s + lim).astype(np.uint8)
        if cache is not None:
            cache.done[sl] = True
            cache.save()
    return out


# -- merging into table2.json -----------------------------------------------------------------

ADAPTIVE_KEYS = ("bpda_st", "bpda_st_eps2", "bpda_st_eps4", "apgd_ce", "apgd_dlr")
# every Table 2 attack by its epsilon (1/255): the strongest per seed is taken over these
EPS_OF_KEY = {"bpda": 8, "bpda_st": 8, "apgd_ce": 8, "apgd_dlr": 8, "bpda_eps4": 4,
              "bpda_st_eps4": 4, "bpda_eps2": 2, "bpda_st_eps2": 2}


def strongest(outcomes, n_seeds):
    """{eps: {defense: {"acc_m", "attacks"}}}: per seed, survived every attack at that eps.

    ``outcomes``: {key: {defense: per-seed 0/1 list}} over the keys of :data:`EPS_OF_KEY`; only
    lists of ``n_seeds`` outcomes count.  ``attacks`` lists the keys that entered.
    """
    out = {}
    for eps in sorted(set(EPS_OF_KEY.values()), reverse=True):
        keys = [k for k, e in EPS_OF_KEY.items() if e == eps and k in outcomes]
        defs = []
        for k in keys:
            defs += [d for d in outcomes[k] if d not in defs]
        for d in defs:
            used = [k for k in keys if len(outcomes[k].get(d, [])) == n_seeds]
            if not used:
                continue
            ok = np.min([np.asarray(outcomes[k][d], dtype=int) for k in used], axis=0)
            out.setdefault(str(eps), {})[d] = {"acc_m": float(ok.mean()), "attacks": used}
    return out


def merge_table2(table2, seeds_doc, runs):
    """Table 2 (``table2.json``, its ``.seeds.json``) with the adaptive rows of ``runs`` added.

    ``runs``: [(file name, adaptive_st result dict)], later ones winning per key and defense.
    Each run must be on Table 2's seeds (the same seed names, in order).  Adds ``acc_m`` and
    ``n_seeds`` for the keys of :data:`ADAPTIVE_KEYS`, the per-seed outcomes to ``seeds_doc``,
    ``acc_m_sources`` (file, git, git_dirty, command of each key) and ``strongest``
    (:func:`strongest`).  A table2.json without ``git_dirty`` gets ``None`` and a note: its
    tree state was not recorded.  Returns new (table2, seeds_doc) dicts.
    """
    import copy

    t2, sd = copy.deepcopy(table2), copy.deepcopy(seeds_doc)
    n = int(t2["n_seeds"]["bpda"])
    if len(sd["seed_names"]) != n:
        raise ValueError(f"table2 has {n} BPDA seeds but its seeds file {len(sd['seed_names'])}")
    src = t2.setdefault("acc_m_sources", {})
    for k in ("bpda", "bpda_eps2", "bpda_eps4"):
        if k in t2["acc_m"]:
            src.setdefault(k, {"file": "table2.json", "git": t2.get("git"),
                               "git_dirty": t2.get("git_dirty"), "command": t2.get("command")})
    for fname, run in runs:
        if run.get("seed_names") != sd["seed_names"]:
            raise ValueError(f"{fname}: not Table 2's seeds")
        for key in ADAPTIVE_KEYS:
            if key not in run.get("acc_m", {}):
                continue
            for d, v in run["acc_m"][key].items():
                t2["acc_m"].setdefault(key, {})[d] = v
                sd["outcomes"].setdefault(key, {})[d] = list(run["outcomes"][key][d])
            t2["n_seeds"][key] = n
            src[key] = {"file": fname, "git": run.get("git"), "git_dirty": run.get("git_dirty"),
                        "command": run.get("command"), "settings": run["settings"].get(
                            "apgd" if key.startswith("apgd") else "bpda_st")}
    if "git_dirty" not in t2:
        t2["git_dirty"] = None
        t2["git_dirty_note"] = ("not recorded when this run was made (before the writers "
                                "recorded it); its own rows cannot be regenerated in this "
                                "session's budget")
    t2["strongest"] = strongest(sd["outcomes"], n)
    return t2, sd


# -- the Table 2 run ---------------------------------------------------------------------------

def markdown(res, identity=None):
    """Table 2's adaptive rows (straight-through BPDA, APGD) beside the identity-BPDA rows."""
    ds = list(res["defenses"])
    rows = [("bpda", "BPDA identity, eps 8/255"), ("bpda_st", "BPDA straight-through, eps 8/255"),
            ("apgd_ce", f"APGD-CE via ST, eps 8/255, {res['settings']['apgd']['max_iter']} it"),
            ("apgd_dlr", f"APGD-DLR via ST, eps 8/255, {res['settings']['apgd']['max_iter']} it"),
            ("bpda_eps4", "BPDA identity, eps 4/255"), ("bpda_st_eps4", "BPDA straight-through, eps 4/255"),
            ("bpda_eps2", "BPDA identity, eps 2/255"), ("bpda_st_eps2", "BPDA straight-through, eps 2/255")]
    acc = dict(res["acc_m"])
    ident = (identity or {}).get("acc_m", {})
    L = [f"# Table 2, adaptive rows (issue #15 section 2)", "",
         f"Model `{res['model']}`; {res['n_seeds']} seeds ({res['split']}); git {res['git'][:10]} "
         f"(dirty: {res['git_dirty']}); {res['machine']}.", "",
         "acc_m (%) of FD k x T under white-box attacks; identity-BPDA rows from "
         "bench/results/table2.json (same seeds).  `strongest` = per seed, fooled by any "
         "attack at that eps.", "", "| attack | key | " + " | ".join(ds) + " |",
         "|---|---|" + "---|" * len(ds)]
    for key, label in rows:
        src = ident if key in ("bpda", "bpda_eps2", "bpda_eps4") else acc
        if key not in src:
            continue
        L.append(f"| {label} | `{key}` | " + " | ".join(
            "—" if src[key].get(d) is None else f"{100 * src[key][d]:.0f}" for d in ds) + " |")
    # strongest per eps from per-seed outcomes (only attacks run here plus the identity outcomes)
    out = res.get("outcomes", {})
    io = (identity or {}).get("outcomes", {})
    for eps, keys in (("8", ("bpda", "bpda_st", "apgd_ce", "apgd_dlr")),
                      ("4", ("bpda_eps4", "bpda_st_eps4")), ("2", ("bpda_eps2", "bpda_st_eps2"))):
        cells = []
        for d in ds:
            vecs = [np.array((io if k.startswith("bpda") and "_st" not in k else out)
                             .get(k, {}).get(d, []), dtype=int) for k in keys]
            vecs = [v for v in vecs if len(v) == res["n_seeds"]]
            cells.append(f"{100 * np.min(vecs, axis=0).mean():.0f} ({len(vecs)} attacks)"
                         if vecs else "—")
        L.append(f"| strongest at eps {eps}/255 | — | " + " | ".join(cells) + " |")
    L += ["", "Settings: " + json.dumps(res["settings"]), "",
          "Seconds per run (this machine, shared): " + json.dumps(res.get("seconds", {})), "",
          "Command:", "", "    " + res["command"], ""]
    return "\n".join(L)


def main(argv=None):
    import torch

    import fdjpeg
    from fdjpeg import eval_attacks as A
    from fdjpeg import eval_data as D
    from fdjpeg.eval.design import git_info, machine, versions
    from fdjpeg.eval_models import load_model, predict

    ap = argparse.ArgumentParser(prog="python -m fdjpeg.eval.adaptive_st",
                                 description="Table 2's straight-through BPDA and APGD rows")
    ap.add_argument("--images", default=str(Path(__file__).resolve().parents[1].parent / "shared"
                                            / "corpus" / "imagenet-sample"))
    ap.add_argument("--model", default="efficientnet-lite0")
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--defenses", default="fd1x,fd2x,fd3x")
    ap.add_argument("--runs", default="bpda_st,apgd_ce,apgd_dlr,bpda_st_eps4,bpda_st_eps2")
    ap.add_argument("--apgd-iter", type=int, default=APGD["max_iter"])
    ap.add_argument("--cache", default="/tmp/fd-cache/table2_adaptive")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", default="bench/results/table2_adaptive.json")
    ap.add_argument("--md-only", metavar="MD", help="write the markdown for --json and exit")
    ap.add_argument("--identity", default="bench/results/table2.json")
    ap.add_argument("--merge-into", metavar="TABLE2",
                    help="add the adaptive rows of --json (comma list of files) to this "
                    "table2.json (and its .seeds.json, .md) and exit")
    a = ap.parse_args(argv)
    if a.merge_into:
        from fdjpeg.eval.report import markdown as t2_markdown

        t2p = Path(a.merge_into)
        sp = t2p.with_suffix(".seeds.json")
        runs = [(Path(f).name, json.loads(Path(f).read_text())) for f in a.json.split(",")]
        t2, sd = merge_table2(json.loads(t2p.read_text()), json.loads(sp.read_text()), runs)
        t2.setdefault("merge_commands", [])
        cmd = "python -m fdjpeg.eval.adaptive_st " + " ".join(
            argv if argv is not None else sys.argv[1:])
        if cmd not in t2["merge_commands"]:
            t2["merge_commands"].append(cmd)
        t2p.write_text(json.dumps(t2, indent=1) + "\n")
        sp.write_text(json.dumps(sd) + "\n")
        md = t2p.with_suffix(".md")
        keep = ""
        if md.exists():  # the hand-written provenance below the generated table stays
            old = md.read_text()
            i = old.find("## How this was made")
            keep = old[i:] if i >= 0 else ""
        md.write_text(t2_markdown(t2) + ("\n" + keep if keep else ""))
        print(f"merged {', '.join(f for f, _ in runs)} into {t2p}", file=sys.stderr)
        return 0
    if a.md_only:
        res = json.loads(Path(a.json).read_text())
        ident = json.loads(Path(a.identity).read_text()) if Path(a.identity).exists() else None
        if ident is not None and Path(a.identity).with_suffix(".seeds.json").exists():
            seeds_doc = json.loads(Path(a.identity).with_suffix(".seeds.json").read_text())
            if seeds_doc.get("seed_names", [])[:res["n_seeds"]] == res["seed_names"]:
                ident["outcomes"] = {k: {d: v[:res["n_seeds"]] for d, v in dv.items()}
                                     for k, dv in seeds_doc.get("outcomes", {}).items()}
        Path(a.md_only).write_text(markdown(res, ident))
        return 0
    torch.set_num_threads(a.threads)
    t_start = time.time()
    model, crop = load_model(a.model)
    items = D.list_images(a.images)
    names, images, labels = D.load_images(items[:max(60, 2 * a.seeds)], crop)
    correct = np.flatnonzero(predict(model, images) == labels)
    if len(correct) < a.seeds:
        raise RuntimeError("not enough correctly classified images for the seeds")
    seeds = correct[:a.seeds]
    x, y = images[seeds], labels[seeds]
    base = np.asarray(fdjpeg.tables.feature_distillation(), dtype=np.int64).reshape(8, 8)
    path = Path(a.json)
    res = json.loads(path.read_text()) if path.exists() else {}
    res.update({"model": a.model, "images": a.images, "split": "evaluation (Table 2 seeds: the "
                "first correctly classified images of the sorted sample, all within 0..499)",
                "seed_names": [names[i] for i in seeds], "n_seeds": int(len(seeds)),
                "fd_table": base.tolist(), "fd_table_source": "fdjpeg.tables.feature_distillation()",
                "defenses": {d: f"fdjpeg.purify with {d[2]}*T (4:4:4)" for d in a.defenses.split(",")},
                "versions": versions(), "machine": machine(), **git_info(),
                "command": "python -m fdjpeg.eval.adaptive_st " + " ".join(argv if argv is not None
                                                                       else sys.argv[1:]),
                "settings": {"bpda_st": dict(BPDA_ST, eps_255={"bpda_st": 8, "bpda_st_eps4": 4,
                                                               "bpda_st_eps2": 2}),
                             "apgd": dict(APGD, max_iter=a.apgd_iter, eps_255=8,
                                          eps_step_255=2, loss={"apgd_ce": "cross_entropy",
                                                                "apgd_dlr": "difference_logits_ratio"}),
                             "threat_model": "white-box: the attacker differentiates through FD's "
                             "exact forward with straight-through roundings; examples rounded to "
                             "uint8 and scored through fdjpeg.purify"}})
    res.setdefault("acc_m", {})
    res.setdefault("outcomes", {})
    res.setdefault("seconds", {})
    for run in a.runs.split(","):
        for d in a.defenses.split(","):
            k = int(d[2])
            table = np.minimum(base * k, 32767)
            key = A._key(a.model, run, d, table.tolist(), a.apgd_iter if run.startswith("apgd")
                         else BPDA_ST, A.images_key([names[i] for i in seeds], x))
            cache = A.Cache(a.cache, f"{run}-{d}", key, len(x), x.shape[1:], np.uint8)
            t0 = time.time()
            if not cache.done.all():
                if run.startswith("bpda_st"):
                    eps = {"bpda_st": 8, "bpda_st_eps4": 4, "bpda_st_eps2": 2}[run] / 255.0
                    bpda_st(model, table, x, y, eps, BPDA_ST["step"], BPDA_ST["max_iter"], cache)
                else:
                    apgd(model, table, x, y, loss=run.split("_")[1], eps=APGD["eps"],
                         eps_step=APGD["eps_step"], max_iter=a.apgd_iter, cache=cache)
                res["seconds"][f"{run}/{d}"] = round(time.time() - t0, 1)
            ok = predict(model, fdjpeg.purify(cache.data, table)) == y
            linf = int(np.abs(cache.data.astype(int) - x.astype(int)).max())
            res["acc_m"].setdefault(run, {})[d] = float(ok.mean())
            res["outcomes"].setdefault(run, {})[d] = ok.astype(int).tolist()
            res.setdefault("linf_255_max", {}).setdefault(run, {})[d] = linf
            print(f"{run} {d}: acc_m {ok.mean():.3f} (max L-inf {linf}/255, "
                  f"{time.time() - t0:.0f} s)", file=sys.stderr, flush=True)
            res["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec="seconds")
            res["wall_seconds_this_run"] = round(time.time() - t_start, 1)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(res, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
