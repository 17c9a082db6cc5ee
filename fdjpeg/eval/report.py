"""What an evaluation result records and how it reads: provenance, the markdown tables, Fig. 4.

``provenance()`` is what every results JSON of the evaluation carries beside its numbers (the
commit, whether the tree had uncommitted changes, versions, machine); ``markdown`` renders a
Table 1/2 run next to the paper's numbers; ``plot_fig4`` draws the Fig. 4 sweeps.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path

import numpy as np

_HERE = Path(__file__).resolve().parent


def _git(args, cwd):
    try:
        r = subprocess.run(["git", *args], capture_output=True, text=True, cwd=cwd, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout if r.returncode == 0 else None


def git_sha(cwd=_HERE):
    """The commit checked out where the code lives ("" outside a git work tree)."""
    out = _git(["rev-parse", "HEAD"], cwd)
    return "" if out is None else out.strip()


def git_dirty(cwd=_HERE):
    """True when ``git status --porcelain`` lists anything (the result is not the commit's
    alone), False on a clean tree, None outside a git work tree."""
    out = _git(["status", "--porcelain"], cwd)
    return None if out is None else bool(out.strip())


def versions():
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


def machine():
    return f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} cpus, " \
           f"torch threads {__import__('torch').get_num_threads()}".replace("  ", " ")


def write_results(out_dir, stem, res, md):
    """Write ``<stem>.json`` (indented) and ``<stem>.md`` into ``out_dir``; say so on stdout."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps(res, indent=1) + "\n")
    (out / f"{stem}.md").write_text(md)
    print(f"wrote {out / (stem + '.md')}")


def provenance():
    """{"git", "git_dirty", "versions", "machine"}: what every results JSON records."""
    return {"git": git_sha(), "git_dirty": git_dirty(), "versions": versions(),
            "machine": machine()}


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
# the paper's design is what its own FD rows measured
PAPER_TABLE1["fd1p_paper"] = PAPER_TABLE1["fd1p"]
PAPER_TABLE1["fd2p_paper"] = PAPER_TABLE1["fd2p"]
PAPER_TABLE2 = {"none": (0, 78), "bit5": (0, 77), "quilting": (0, 72), "tvm": (0, 68),
                "jpeg75": (0, 74), "jpeg20": (34, 68), "jpeg10": (45, 61), "fd1x": (10, 77),
                "fd2x": (42, 76), "fd3x": (60, 74)}



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


AGREEMENT_NOTE = (
    "These are **agreement** scores, not accuracy: the photos have no ImageNet labels, so each "
    "is labelled by the model's own clean prediction (agree_l = share of the benign photos whose "
    "defended prediction stays the clean one; agree_m = the same on the attacked seeds).  Seeds "
    "are the photos the model classifies with softmax confidence >= {conf:g}.  For accuracy "
    "on labelled ImageNet images see bench/results/table1.md and table2.md "
    "(`fdjpeg eval --images ...`).")


def markdown(res):
    agree = res.get("metric") == "agreement"
    m_name, l_name = ("agree_m", "agree_l") if agree else ("acc_m", "acc_l")
    dirty = {True: " (uncommitted changes)", False: " (clean tree)"}.get(res.get("git_dirty"),
                                                                          " (tree state unknown)")
    lines = [f"Model `{res['model']}`; images: {res['images']}; {res['n_benign']} benign images; "
             f"git {res['git'][:10]}{dirty}; {res['machine']}.", ""]
    if res.get("split"):
        lines += [f"Split: {res['split']}.", ""]
    if res.get("command"):
        cache = res.get("settings", {}).get("cache_files_at_start")
        lines += [f"Command: `{res['command']}`" + ("" if cache is None else
                  f" (cache files at start: {cache})") + ".", ""]
    for alias, why in res.get("settings", {}).get("same_as", {}).items():
        lines += [f"`{alias}` = {why}.", ""]
    if agree:
        conf = res["settings"].get("min_confidence", 0.0)
        lines += [AGREEMENT_NOTE.format(conf=conf), ""]
    gray = [t for t in ("fgsm", "bim", "deepfool", "cw2", "cw0", "cwinf") if t in res["acc_m"]]
    defenses = list(res["acc_l"])
    if gray:
        paper_note = "" if agree else "in parentheses the paper's Table 1 (MobileNet); "
        lines += [f"{m_name} (%) on adversarial seeds after each defense; {paper_note}"
                  f"[n] = scored on the first n seeds (slow defenses) or {l_name} on the first n "
                  "images.", ""]
        head = ["defense"] + [f"{t} (n={res['n_seeds'][t]})" for t in gray] + \
            ["average", l_name, "ms/img"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for d in defenses:
            paper = {} if agree else PAPER_TABLE1.get(d, {})  # accuracy: not beside agreement
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
        for t in gray:
            sdesc = res.get("acc_m_sources", {}).get(t)
            if sdesc and sdesc.get("this_run") is False:
                lines.append(f"\n`{t}` rows: from {sdesc['file']} (git {str(sdesc.get('git'))[:10]}, "
                             f"dirty: {sdesc.get('git_dirty')}), not regenerated by this run.")
        lines += ["", "Attack success on the undefended model after uint8 rounding, and mean "
                  "perturbation (pixel range [0,1]; L0 = fraction of pixels changed):", "",
                  "| attack | success | L0 | L2 | L∞ (×255) |", "|---|---|---|---|---|"]
        for t, s in res["attack_success"].items():
            if t.startswith("bpda") or t not in res["norms"]:
                continue
            nm = res["norms"][t]
            lines.append(f"| {t} | {_pct(s)}% | {nm['l0_fraction']:.3f} | {nm['l2']:.3f} | "
                         f"{nm['linf_255']:.2f} |")
    bp = [t for t in res["acc_m"] if t.startswith(("bpda", "apgd"))]
    if bp:
        lines += ["", f"White-box attacks (identity BPDA: 100 iterations, step 1/255; "
                  "straight-through BPDA and APGD: through FD's exact torch forward with "
                  f"straight-through roundings): {m_name} (%) and {l_name} (%)" +
                  ("" if agree else "; in brackets the paper's Table 2 (Inception-v3)") + ".  "
                  "`strongest` = per seed, fooled by any attack at that eps.", ""]
        ds = [d for d in defenses if d in res["acc_m"]["bpda"]] if "bpda" in res["acc_m"] else []
        head = ["row"] + ds
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        eps0 = res["settings"]["attacks"].get("bpda", {}).get("eps_255", ["8"])[0]
        label = {"bpda": f"BPDA identity, eps={eps0}/255", "bpda_st": "BPDA-ST, eps=8/255",
                 "apgd_ce": "APGD-CE via ST, eps=8/255", "apgd_dlr": "APGD-DLR via ST, eps=8/255"}
        for e in ("4", "2"):
            label[f"bpda_eps{e}"] = f"BPDA identity, eps={e}/255"
            label[f"bpda_st_eps{e}"] = f"BPDA-ST, eps={e}/255"
        groups = [("8", ["bpda", "bpda_st", "apgd_ce", "apgd_dlr"]),
                  ("4", ["bpda_eps4", "bpda_st_eps4"]), ("2", ["bpda_eps2", "bpda_st_eps2"])]
        known = {k for _, ks in groups for k in ks}
        groups += [("", sorted(t for t in bp if t not in known))]
        strong = res.get("strongest", {})
        for eps, keys in groups:
            for t in [k for k in keys if k in res["acc_m"]]:
                row = [f"{label.get(t, t)} `{t}` (n={res['n_seeds'].get(t, '?')})"]
                for d in ds:
                    v = res["acc_m"][t].get(d)
                    p = None if agree else PAPER_TABLE2.get(d)
                    row.append(("—" if v is None else _pct(v)) +
                               (f" ({p[0]})" if (p and t == "bpda") else ""))
                lines.append("| " + " | ".join(row) + " |")
            if eps in strong:
                row = [f"**strongest, eps={eps}/255**"]
                for d in ds:
                    c = strong[eps].get(d)
                    row.append("—" if c is None else
                               f"**{_pct(c['acc_m'])}** ({len(c['attacks'])} attacks)")
                lines.append("| " + " | ".join(row) + " |")
        row = [l_name]
        for d in ds:
            p = None if agree else PAPER_TABLE2.get(d)
            row.append(_pct(res["acc_l"].get(d)) + (f" ({p[1]})" if p else ""))
        lines.append("| " + " | ".join(row) + " |")
        for t, sdesc in res.get("acc_m_sources", {}).items():
            if sdesc.get("file") != "table2.json":
                lines.append(f"\n`{t}`: from {sdesc['file']} (git {str(sdesc.get('git'))[:10]}, "
                             f"dirty: {sdesc.get('git_dirty')}; `{sdesc.get('command')}`)")
    if res["settings"].get("skipped"):
        lines += ["", "Skipped: " + "; ".join(f"{k}: {v}" for k, v in
                                              res["settings"]["skipped"].items())]
    lines += ["", f"FD table T ({res['settings']['fd_table_source']}; purify: "
              f"{res['settings']['purify']}):", "", "```"]
    lines += [" ".join(f"{v:3d}" for v in row) for row in res["settings"]["fd_table"]]
    lines += ["```", ""]
    return "\n".join(lines)




# -- comparisons on the same seeds -------------------------------------------------------------
def matched(outcomes, n):
    """{attack: {defense: acc_m on the first n seeds}} from per-seed outcomes (a ``*.seeds.json``
    companion's ``outcomes``), for every defense scored on at least n seeds of that attack.

    Defenses scored on different seed counts (TVM and quilting on the first 30, the others on
    100) are compared here on the same first n seeds."""
    out = {}
    for att, per in outcomes.items():
        row = {d: float(np.mean(v[:n])) for d, v in per.items() if len(v) >= n}
        if row:
            out[att] = row
    return out


def matched_markdown(outcomes, n):
    """:func:`matched` as a markdown table (%), one row per defense, one column per attack."""
    m = matched(outcomes, n)
    atts = list(m)
    defs = []
    for a in atts:
        defs += [d for d in m[a] if d not in defs]
    lines = [f"acc_m (%) on the same first {n} seeds of every attack:", "",
             "| defense | " + " | ".join(atts) + " | average |", "|---|" + "---|" * (len(atts) + 1)]
    for d in defs:
        vals = [m[a].get(d) for a in atts]
        have = [v for v in vals if v is not None]
        lines.append(f"| {d} | " + " | ".join(_pct(v) for v in vals) + " | " +
                     (_pct(float(np.mean(have))) if len(have) == len(vals) else "—") + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(prog="python -m fdjpeg.eval.report",
                                 description="acc_m of every defense on the same first N seeds")
    ap.add_argument("seeds_json", help="a *.seeds.json companion of a Table 1/2 run")
    ap.add_argument("--n", type=int, default=30)
    a = ap.parse_args(argv)
    doc = json.loads(Path(a.seeds_json).read_text())
    print(matched_markdown(doc["outcomes"], a.n), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
