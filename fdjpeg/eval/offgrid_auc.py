"""ROC AUC of fdjpeg.offgrid_score: two-pass benign images vs the same images changed.

Setting (issue 4, "Beyond the paper"): a sensor writes ``decode(encode(x, T))``
with the default FD table T (4:4:4); the score of its pixels against T is near 0.
An attacker (or anything else) then changes the pixels.  For each change we
report the ROC AUC of the score separating the unchanged sensor images
(negatives) from the changed ones (positives), the detection rate at the score
threshold that flags 1% of benign images, and median scores.

Changes measured:
  * real-gradient FGSM and BIM (L_inf, eps = 1/255 and 2/255) against
    EfficientNet-Lite0 (the evaluation model; untargeted, away from the model's
    prediction on the sensor image; BIM: 10 steps of eps/5), rounded to uint8
    as floor(255 x + 0.5) -- when torch and the weights are installed;
  * plain +-1 noise (a random sign per pixel and channel) and +-2 noise: these
    are also exactly "FGSM with a random gradient" at eps 1/255 and 2/255;
    +-1 noise on 10% and 2% of the samples, to show where sensitivity ends;
  * benign edits after the sensor, to show what else the score flags: a
    Pillow re-save at quality 95, brightness +1 on every pixel, a 1-pixel shift
    (grid misaligned), and a 16-pixel crop (grid kept: should NOT be flagged).

Two sensors: 4:4:4 (fdjpeg's default), scored on all components, and 4:2:0,
scored on luma only (``components="luma"``).

Run from the repository root (about 15 minutes on one core with the model; the
adversarial examples are cached under eval-cache/offgrid/; ``fdjpeg eval offgrid-auc ...`` is
the same):

    python -m fdjpeg.eval.offgrid_auc [--n 100] [--model efficientnet-lite0|none]

Writes bench/results/offgrid_auc.md.
"""
from __future__ import annotations

import argparse
import io
import platform
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

import fdjpeg
from fdjpeg import tables
from fdjpeg.detect import offgrid_score

ROOT = Path(__file__).resolve().parents[2]  # the repository: default corpus, cache, results
CORPUS = ROOT.parent / "shared" / "corpus" / "imagenet-sample"
OUT = ROOT / "bench" / "results" / "offgrid_auc.md"


# ----------------------------------------------------------------- statistics

def roc_auc(neg, pos) -> float:
    """P(score_pos > score_neg) + 0.5 P(tie): the Mann-Whitney form of the ROC
    AUC, with ties given average ranks."""
    neg, pos = np.asarray(neg, float), np.asarray(pos, float)
    scores = np.concatenate([neg, pos])
    order = scores.argsort(kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):            # average ranks over ties
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    r_pos = ranks[len(neg):].sum()
    return float((r_pos - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def tpr_at_fpr(neg, pos, fpr=0.01) -> float:
    thr = np.quantile(np.asarray(neg, float), 1 - fpr)
    return float(np.mean(np.asarray(pos, float) > thr))


# ----------------------------------------------------------------- images

def protocol_crop(path: Path) -> np.ndarray:
    """The evaluation harness's crop (short side 256 bilinear, centre 224)."""
    from fdjpeg.eval.data import resize_crop

    with Image.open(path) as im:
        return resize_crop(im, 224)


def sensor(x: np.ndarray, table: np.ndarray, subsampling: str = "4:4:4"):
    """Two-pass sensor output decode(encode(x, T))."""
    if hasattr(fdjpeg, "encode") and hasattr(fdjpeg, "decode"):
        data = fdjpeg.encode(x, table, subsampling=subsampling)
        return np.asarray(fdjpeg.decode(data)), "fdjpeg.encode/decode"
    buf = io.BytesIO()
    t = table.ravel().tolist()
    Image.fromarray(x).save(buf, "JPEG", qtables=[t, t],
                            subsampling={"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}[subsampling])
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("RGB")), "Pillow qtables=[T, T]"


def resave(x, quality):
    buf = io.BytesIO()
    Image.fromarray(x).save(buf, "JPEG", quality=quality)
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("RGB"))


def add(x, d):
    return np.clip(x.astype(np.int16) + d, 0, 255).astype(np.uint8)


# ----------------------------------------------------------------- attacks

def real_attacks(model, x_u8, eps_levels, bim_iters, batch, log):
    """FGSM and BIM with the model's gradient; returns {name: uint8 NHWC},
    and each attack's success rate on the undefended model."""
    import torch
    x = torch.from_numpy(np.ascontiguousarray(x_u8.transpose(0, 3, 1, 2))).float() / 255.0
    with torch.no_grad():
        labels = torch.cat([model(x[i:i + batch]).argmax(1) for i in range(0, len(x), batch)])
    loss_fn = torch.nn.CrossEntropyLoss()

    def grad_sign(xb, yb):
        xb = xb.clone().requires_grad_(True)
        loss = loss_fn(model(xb), yb)
        (g,) = torch.autograd.grad(loss, xb)
        return g.sign()

    def to_u8(xf):
        return np.clip(np.floor(255.0 * xf.numpy().transpose(0, 2, 3, 1) + 0.5), 0, 255) \
            .astype(np.uint8)

    out, success = {}, {}
    for lev in eps_levels:
        eps = lev / 255.0
        for name in ("FGSM", "BIM"):
            t0 = time.perf_counter()
            advs = []
            for i in range(0, len(x), batch):
                xb, yb = x[i:i + batch], labels[i:i + batch]
                if name == "FGSM":
                    xa = (xb + eps * grad_sign(xb, yb)).clamp(0, 1)
                else:
                    xa = xb.clone()
                    for _ in range(bim_iters):
                        xa = xa + (eps / 5) * grad_sign(xa, yb)
                        xa = torch.min(torch.max(xa, xb - eps), xb + eps).clamp(0, 1)
                advs.append(xa.detach())
            adv_u8 = to_u8(torch.cat(advs))
            key = f"{name} eps={lev}/255 (EfficientNet-Lite0 gradient)"
            out[key] = adv_u8
            from fdjpeg.eval.models import predict
            pred = predict(model, adv_u8)
            success[key] = float(np.mean(pred != labels.numpy()))
            log(f"{key}: {time.perf_counter() - t0:.0f} s, fools the model on "
                f"{success[key]:.0%}")
    return out, success


# ----------------------------------------------------------------- main

def load_model(spec, threads, log):
    if spec == "none":
        return None, "not run (--model none)"
    try:
        import torch
        torch.set_num_threads(threads)
        from fdjpeg.eval.models import load_model as _load
        model, _ = _load(spec)
        return model, f"{spec}, torch {torch.__version__}, {threads} thread(s)"
    except Exception as exc:  # no torch / no weights: say so in the report
        log(f"model not available: {exc}")
        return None, f"not available ({exc})"


def attacked(model, benign, args, tag, log):
    """Real-gradient examples, cached as .npz under --cache (keyed by setting)."""
    if model is None:
        return {}, {}
    path = None
    if args.cache is not None:
        path = args.cache / f"offgrid-{tag}-n{len(benign)}-bim{args.bim_iters}.npz"
        if path.exists():
            with np.load(path, allow_pickle=False) as z:
                if np.array_equal(z["benign"], benign):
                    names = [str(n) for n in z["names"]]
                    log(f"{tag}: adversarial examples from {path}")
                    return ({n: z[f"adv{i}"] for i, n in enumerate(names)},
                            {n: float(v) for n, v in zip(names, z["success"])})
    adv, success = real_attacks(model, benign, (1, 2), args.bim_iters, args.batch, log)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        names = list(adv)
        np.savez_compressed(path, benign=benign, names=np.array(names),
                            success=np.array([success[n] for n in names]),
                            **{f"adv{i}": adv[n] for i, n in enumerate(names)})
    return adv, success


def run_setting(crops, T, subsampling, components, model, args, log):
    t0 = time.perf_counter()
    benign = []
    for c in crops:
        s, how = sensor(c, T, subsampling)
        benign.append(s)
    benign = np.stack(benign)
    log(f"{subsampling}: {len(benign)} images sensor-encoded ({how}) in "
        f"{time.perf_counter() - t0:.1f} s")
    rng = np.random.default_rng(args.seed)
    changed = {}
    sign = rng.choice(np.array([-1, 1], np.int16), size=benign.shape)
    changed["+-1 noise (= FGSM eps=1/255 with a random gradient)"] = add(benign, sign)
    changed["+-2 noise (= FGSM eps=2/255 with a random gradient)"] = add(benign, 2 * sign)
    for frac in (0.1, 0.02):   # where the score's sensitivity ends
        mask = rng.random(benign.shape) < frac
        changed[f"+-1 noise on {frac:.0%} of samples"] = add(benign, sign * mask)
    adv, success = attacked(model, benign, args, subsampling.replace(":", ""), log)
    changed.update(adv)
    changed["benign edit: Pillow re-save, quality 95"] = np.stack([resave(x, 95) for x in benign])
    changed["benign edit: brightness +1 on every pixel"] = add(benign, np.int16(1))
    changed["benign edit: shift by 1 pixel (grid misaligned)"] = \
        np.pad(benign[:, :-1, :-1], ((0, 0), (1, 0), (1, 0), (0, 0)), mode="edge")

    t0 = time.perf_counter()

    def score(imgs):
        return offgrid_score(imgs, T, components=components)

    s_benign = score(benign)
    lines = [
        f"### Sensor {subsampling}, `offgrid_score(x, T, components=\"{components}\")`",
        "",
        f"Sensor images via {how}.  Negatives: the sensor images (score median "
        f"{np.median(s_benign):.4f}, 99th percentile {np.quantile(s_benign, 0.99):.4f}, "
        f"max {s_benign.max():.4f}).  Positives: the same images after the change.",
        "",
        "| change after the sensor | ROC AUC | detected at 1% FPR | median score | "
        "samples changed | max abs change | fools the model |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, imgs in changed.items():
        s = score(imgs)
        diff = np.abs(imgs.astype(np.int16) - benign).reshape(len(imgs), -1)
        succ = success.get(name)
        lines.append(f"| {name} | {roc_auc(s_benign, s):.4f} | {tpr_at_fpr(s_benign, s):.0%} | "
                     f"{np.median(s):.4f} | {np.mean(diff != 0):.0%} | {int(diff.max())} | "
                     f"{'' if succ is None else f'{succ:.0%}'} |")
    s_crop8 = score(np.ascontiguousarray(benign[:, 16:, 16:]))
    lines.append(f"| control: crop at offset (16, 16), grid kept | "
                 f"{roc_auc(s_benign, s_crop8):.4f} | {tpr_at_fpr(s_benign, s_crop8):.0%} | "
                 f"{np.median(s_crop8):.4f} | - | - | |")
    lines.append("")
    per_image = (time.perf_counter() - t0) / (len(changed) + 2) / len(benign)
    return lines, per_image


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100, help="images (evenly spaced over the sample)")
    ap.add_argument("--model", default="efficientnet-lite0",
                    help="'none' to skip the real-gradient attacks")
    ap.add_argument("--bim-iters", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", type=Path, default=ROOT / "eval-cache" / "offgrid",
                    help="folder for the adversarial examples (.npz); 'none' to disable")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    if str(args.cache) == "none":
        args.cache = None

    def log(msg):
        print(msg, flush=True)

    files = sorted(CORPUS.glob("*.JPEG"))
    if not files:
        log(f"no images under {CORPUS}")
        return 2
    step = max(1, len(files) // args.n)
    files = files[::step][:args.n]
    T = tables.default_fd()
    crops = np.stack([protocol_crop(f) for f in files])
    model, model_note = load_model(args.model, args.threads, log)

    body, times = [], []
    for subsampling, components in (("4:4:4", "all"), ("4:2:0", "luma")):
        lines, per_image = run_setting(crops, T, subsampling, components, model, args, log)
        body += lines
        times.append(per_image)
    log(f"scoring: {1e3 * np.mean(times):.1f} ms per 224x224 image")

    lines = [
        "# Off-grid detector: ROC AUC (python -m fdjpeg.eval.offgrid_auc)",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, "
        f"numpy {np.__version__}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        f"Images: {len(files)} photos of shared/corpus/imagenet-sample (every {step}th file "
        "in sorted order), the evaluation crop (short side 256, centre 224x224).",
        "Sensor: two-pass FD encode with the default FD table "
        "(`tables.feature_distillation()`), at 4:4:4 (fdjpeg's default) and at 4:2:0.",
        "Score: `fdjpeg.offgrid_score(x, T)` = 12 * mean squared distance of each DCT "
        "coefficient to the T grid, in steps, over the blocks without clipped samples "
        f"({1e3 * np.mean(times):.1f} ms per image, numpy).  At 4:2:0 only luma is scored: "
        "the decoder's chroma upsampling takes chroma off its grid.",
        f"Model for real-gradient attacks: {model_note}; untargeted, away from the model's "
        f"prediction on the sensor image; BIM {args.bim_iters} steps of eps/5; outputs "
        "rounded to uint8 as floor(255 x + 0.5).",
        "",
    ] + body + [
        "Reading: an AUC of 1 means every changed image scores above every benign one; 0.5 "
        "is chance.  The score measures *change after the sensor*, not adversarial intent: "
        "plain noise, a re-save, a brightness step and a misaligned shift are flagged as "
        "surely as FGSM/BIM, while a grid-aligned crop is not.  For coefficients on the grid "
        "a change dC adds about 12 mean((dC/T)^2), i.e. (Parseval) the mean squared pixel "
        "change over T^2: the score is an energy-of-change detector that needs no reference "
        "image, and low-energy changes (+-1 on 2% of samples) pass unseen -- sparse attacks "
        "(CW0, few-pixel, patches in clipped blocks) would too.  The attacks here are not "
        "adaptive.  An attacker who knows T cannot land on another grid point within a small "
        "L_inf budget (one step of a coefficient needs T/8 levels per pixel: 2.5 for T = 20), "
        "but can minimise the energy of the change.  The score needs the sensor's table and "
        "8x8 grid; it says nothing about images that never went through a two-pass sensor.",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    log("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
