"""Table 1 from two runs on the same seeds: a fresh run's rows, and an older run's for attacks
the fresh run did not regenerate (the CW attacks cost hours on a shared 2-core machine).

    python -m fdjpeg.eval.merge_table1 FRESH.json OLD.json --attacks cw2,cw0,cwinf \\
        --json bench/results/table1.json --md bench/results/table1.md

Everything of the fresh run stays (acc_l, its attacks, provenance); for each of ``--attacks``
the older run's acc_m, seed count, success rate, norms, attack settings and per-seed outcomes are
copied in, after checking that both runs used the same seeds (names, in order) and the same FD
table.  Defenses the fresh run reports under two names (``settings.same_as``: fd1p_paper is fd1p
when the default table is the paper's design) get the older run's number under both.
``acc_m_sources`` records, per attack, which run it comes from (file, commit, tree state,
command).  The markdown is written by :func:`fdjpeg.eval.report.markdown`; a hand-written part
of an existing ``--md`` from ``## How this was made`` on is kept.
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path


def _seeds_path(p):
    return Path(p).with_suffix(".seeds.json")


def merge(fresh, fresh_seeds, old, old_seeds, attacks, old_name, fresh_name="this run"):
    """(table1 dict, seeds dict): ``fresh`` with ``attacks`` taken from ``old``.

    Raises ValueError when the seeds or the FD table differ, or an attack is missing in ``old``.
    """
    res, sd = copy.deepcopy(fresh), copy.deepcopy(fresh_seeds)
    if fresh_seeds["seed_names"] != old_seeds["seed_names"]:
        raise ValueError("the two runs have different seeds")
    if fresh["settings"]["fd_table"] != old["settings"]["fd_table"]:
        raise ValueError("the two runs used different FD tables")
    same = {k: v.split(":")[0] for k, v in fresh["settings"].get("same_as", {}).items()}
    defenses = list(fresh["acc_l"])
    src = res.setdefault("acc_m_sources", {})
    for att in res["acc_m"]:
        src.setdefault(att, {"file": fresh_name, "this_run": True, "git": fresh.get("git"),
                             "git_dirty": fresh.get("git_dirty"),
                             "command": fresh.get("command")})
    for att in attacks:
        if att not in old["acc_m"]:
            raise ValueError(f"{old_name} has no {att!r} rows")
        row, outs = {}, {}
        for d in defenses:
            o = same.get(d, d)
            if o in old["acc_m"][att]:
                row[d] = old["acc_m"][att][o]
                outs[d] = list(old_seeds["outcomes"][att][o])
        res["acc_m"][att] = row
        sd["outcomes"][att] = outs
        res["n_seeds"][att] = old["n_seeds"][att]
        for k in (att, att + "@sensor"):
            if k in old.get("attack_success", {}):
                res["attack_success"][k] = old["attack_success"][k]
            if k in old.get("norms", {}):
                res["norms"][k] = old["norms"][k]
        res["settings"]["attacks"][att] = old["settings"]["attacks"][att]
        slow = old["settings"].get("acc_m_seeds_slow_defenses", {}).get(att)
        if slow:
            res["settings"].setdefault("acc_m_seeds_slow_defenses", {})[att] = slow
        src[att] = {"file": old_name, "this_run": False, "git": old.get("git"),
                    "git_dirty": old.get("git_dirty"), "command": old.get("command"),
                    "finished": old.get("finished")}
    order = [t for t in ("fgsm", "bim", "deepfool", "cw2", "cw0", "cwinf") if t in res["acc_m"]]
    res["acc_m"] = {t: res["acc_m"][t] for t in order + [t for t in res["acc_m"]
                                                         if t not in order]}
    res["merged"] = {"fresh": fresh_name, "old": old_name, "attacks_from_old": list(attacks)}
    return res, sd


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m fdjpeg.eval.merge_table1",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("fresh")
    ap.add_argument("old")
    ap.add_argument("--attacks", required=True, help="comma list taken from OLD")
    ap.add_argument("--json", required=True)
    ap.add_argument("--md")
    ap.add_argument("--old-name", help="how OLD is named in acc_m_sources (default: its file "
                    "name)")
    a = ap.parse_args(argv)
    from fdjpeg.eval.report import markdown

    fresh = json.loads(Path(a.fresh).read_text())
    old = json.loads(Path(a.old).read_text())
    res, sd = merge(fresh, json.loads(_seeds_path(a.fresh).read_text()), old,
                    json.loads(_seeds_path(a.old).read_text()),
                    [t for t in a.attacks.split(",") if t], a.old_name or Path(a.old).name,
                    Path(a.fresh).name)
    res["merge_command"] = "python -m fdjpeg.eval.merge_table1 " + " ".join(
        argv if argv is not None else sys.argv[1:])
    keep = ""
    if a.md and Path(a.md).exists():
        text = Path(a.md).read_text()
        i = text.find("## How this was made")
        keep = text[i:] if i >= 0 else ""
    Path(a.json).write_text(json.dumps(res, indent=1) + "\n")
    _seeds_path(a.json).write_text(json.dumps(sd) + "\n")
    if a.md:
        Path(a.md).write_text(markdown(res) + ("\n" + keep if keep else ""))
    print(f"wrote {a.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
