"""Sum a fuzzing campaign from libFuzzer logs (fuzz/work/logs by default).

    python fuzz/summarize.py [logdir ...]

Per target: runs, executions, wall seconds, last coverage (cov = edges, ft =
features) and corpus size, artifacts (crash-/leak-/timeout-/oom- files).
"""
import re
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent


def parse(log):
    text = log.read_text(errors="replace")
    execs = re.findall(r"stat::number_of_executed_units:\s+(\d+)", text)
    if execs:
        n = int(execs[-1])
    else:  # killed before the final stats: last status line
        lines = re.findall(r"^#(\d+)\s", text, re.M)
        n = int(lines[-1]) if lines else 0
    cov = re.findall(r"cov: (\d+) ft: (\d+) corp: (\d+)/", text)
    secs = re.findall(r"Done \d+ runs in (\d+) second", text)
    crashes = re.findall(r"artifact_prefix=.*?Test unit written to (\S+)", text, re.S)
    return n, (cov[-1] if cov else None), (int(secs[-1]) if secs else None), crashes


def main(dirs):
    dirs = [Path(d) for d in dirs] or [HERE / "work" / "logs"]
    total = defaultdict(lambda: {"runs": 0, "execs": 0, "secs": 0, "cov": None, "crashes": []})
    for d in dirs:
        for log in sorted(d.glob("fuzz_*.log")):
            target = re.match(r"(fuzz_[a-z_]+?)-\d", log.name)
            target = target.group(1) if target else log.stem
            n, cov, secs, crashes = parse(log)
            t = total[target]
            t["runs"] += 1
            t["execs"] += n
            t["secs"] += secs or 0
            if cov and (t["cov"] is None or int(cov[1]) > int(t["cov"][1])):
                t["cov"] = cov  # the run that reached the most features
            t["crashes"] += crashes
    grand = 0
    print(f"{'target':22} {'runs':>4} {'executions':>12} {'seconds':>8} {'exec/s':>7}  cov/ft/corpus  findings")
    for name, t in sorted(total.items()):
        grand += t["execs"]
        rate = t["execs"] / t["secs"] if t["secs"] else 0
        cov = "/".join(t["cov"]) if t["cov"] else "-"
        print(f"{name:22} {t['runs']:>4} {t['execs']:>12,} {t['secs']:>8} {rate:>7.0f}  {cov:14} {len(t['crashes'])}")
        for c in t["crashes"]:
            print(f"    {c}")
    print(f"total executions: {grand:,}")


if __name__ == "__main__":
    main(sys.argv[1:])
