"""fdjpeg.torch.fd_forward (differentiable FD) and fdjpeg.torch.adapt (label-free adaptation).

References: Pillow's own JPEG round trip (encode with the table(s) at 4:4:4, decode) for the
forward pass; closed-form linear algebra for the straight-through gradient; the BN statistics
measured directly on a tiny model's first layer for adapt().
"""
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import fdjpeg

torch = pytest.importorskip("torch")
skdata = pytest.importorskip("skimage.data")

from fdjpeg.torch import FeatureDistillationST, adapt, fd_forward  # noqa: E402

FD = np.asarray(fdjpeg.tables.feature_distillation()).reshape(8, 8)
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "imagenet-sample"


def pillow_fd(arr, luma, chroma=None):
    """Independent reference: Pillow encodes with (luma, chroma) tables at 4:4:4, then decodes."""
    chroma = luma if chroma is None else chroma
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", subsampling=0,
                              qtables=[np.asarray(luma).ravel().tolist(),
                                       np.asarray(chroma).ravel().tolist()])
    return np.asarray(Image.open(buf).convert("RGB"))


def crops():
    out = [np.ascontiguousarray(skdata.astronaut()[:96, :128]),
           np.ascontiguousarray(skdata.chelsea()[40:104, 80:176]),
           np.ascontiguousarray(skdata.coffee()[100:164, 200:264])]
    files = sorted(CORPUS.glob("*.JPEG"))[:4]
    for f in files:  # natural photos from the corpus (CI has it), centre 64x64 crops
        a = np.asarray(Image.open(f).convert("RGB"))
        h, w = a.shape[0] // 2, a.shape[1] // 2
        out.append(np.ascontiguousarray(a[h - 32:h + 32, w - 32:w + 32]))
    rng = np.random.default_rng(1)
    out.append(rng.integers(0, 256, (32, 48, 3), dtype=np.uint8))  # noise: every clamp active
    sat = np.zeros((16, 16, 3), np.uint8)
    sat[:, :8] = (255, 0, 255)  # saturated colours, hard edges
    out.append(sat)
    return out


def run(arr, table):
    x = torch.from_numpy(arr.transpose(2, 0, 1)).float() / 255.0
    y = fd_forward(x, table)
    assert y.shape == x.shape and y.dtype == x.dtype
    lv = y.detach().numpy().transpose(1, 2, 0) * 255.0
    assert np.abs(lv - np.rint(lv)).max() < 1e-3  # on the uint8 grid
    return np.rint(lv).astype(np.int64)


@pytest.mark.parametrize("tables", [
    (FD, None), (3 * FD, None), (np.ones((8, 8), int), None), (np.full((8, 8), 255), None),
    (FD, np.full((8, 8), 60)), (np.full((8, 8), 4), np.full((8, 8), 99)),
])
def test_forward_equals_pillow_round_trip(tables):
    luma, chroma = tables
    table = luma if chroma is None else [luma, chroma]
    n_pix = n_diff = 0
    for arr in crops():
        ref = pillow_fd(arr, luma, chroma).astype(np.int64)
        out = run(arr, table)
        n_pix += out.size
        n_diff += int((out != ref).sum())
        np.testing.assert_array_equal(fdjpeg.purify(arr, table), ref)  # the codec, for context
    # The forward emulates the codec's integer arithmetic: equal pixel for pixel, 0 of n_pix.
    assert n_diff == 0, f"{n_diff} of {n_pix} pixels differ"


def test_batch_matches_single_and_module():
    arrs = [np.ascontiguousarray(skdata.astronaut()[i * 64:(i + 1) * 64, :64]) for i in range(3)]
    x = torch.from_numpy(np.stack(arrs).transpose(0, 3, 1, 2)).float() / 255.0
    y = FeatureDistillationST(FD)(x)
    for i, a in enumerate(arrs):
        np.testing.assert_array_equal(
            np.rint(y[i].numpy().transpose(1, 2, 0) * 255).astype(np.uint8), fdjpeg.purify(a, FD))
    # default table = the package's FD table
    torch.testing.assert_close(fd_forward(x), y)


def test_off_grid_input_is_rounded_like_the_protocol():
    arr = np.ascontiguousarray(skdata.chelsea()[:64, :64])
    rng = np.random.default_rng(0)
    x = np.clip(arr / 255.0 + rng.uniform(-0.0019, 0.0019, arr.shape), 0, 1)
    x8 = np.floor(255.0 * x + 0.5).astype(np.uint8)
    y = fd_forward(torch.from_numpy(x.transpose(2, 0, 1)).float(), FD)
    np.testing.assert_array_equal(np.rint(y.numpy().transpose(1, 2, 0) * 255).astype(np.uint8),
                                  fdjpeg.purify(x8, FD))


def test_straight_through_gradient_is_the_linear_part():
    """With every rounding straight-through, FD's backward pass is its linear part: colour
    transform, DCT, 1/T, T, IDCT and the inverse colour transform, i.e. the identity up to
    libjpeg's 13/16-bit fixed-point constants, wherever no clamp is active."""
    arr = np.clip(np.ascontiguousarray(skdata.coffee()[:64, :64]).astype(int), 40, 215)
    arr = arr.astype(np.uint8)  # mid-range: no clamp active
    x = (torch.from_numpy(arr.transpose(2, 0, 1)).float() / 255.0).requires_grad_(True)
    v = torch.randn(3, 64, 64, generator=torch.Generator().manual_seed(0))
    (g,) = torch.autograd.grad((fd_forward(x, 3 * FD) * v).sum(), x)
    rel = float((g - v).norm() / v.norm())
    assert rel < 2e-3, rel


def test_forward_rejects_bad_input():
    with pytest.raises(TypeError):
        fd_forward(torch.zeros(3, 8, 8, dtype=torch.uint8))
    with pytest.raises(ValueError):
        fd_forward(torch.zeros(3, 12, 8))
    with pytest.raises(ValueError):
        fd_forward(torch.zeros(1, 8, 8))
    with pytest.raises(ValueError):
        fd_forward(torch.zeros(3, 8, 8), np.zeros((8, 8)))


# -- adapt() on a tiny model -------------------------------------------------------------------

class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.conv = torch.nn.Conv2d(3, 6, 3, padding=1, bias=False)
        self.bn = torch.nn.BatchNorm2d(6)
        self.conv2 = torch.nn.Conv2d(6, 6, 3, padding=1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(6)
        self.fc = torch.nn.Linear(6, 5)
        with torch.no_grad():
            for p in (self.conv.weight, self.conv2.weight, self.fc.weight, self.fc.bias):
                p.copy_(torch.randn(p.shape, generator=g) * 0.3)
            self.bn.running_mean.copy_(torch.randn(6, generator=g) * 0.1)
            self.bn.running_var.copy_(torch.rand(6, generator=g) + 0.5)
        self.eval()

    def forward(self, x):
        z = torch.relu(self.bn(self.conv(x - 0.5)))
        z = torch.relu(self.bn2(self.conv2(z)))
        return self.fc(z.mean((2, 3)))


def tiny_images(n=6):
    base = np.ascontiguousarray(skdata.astronaut()[::4, ::4][:64, :64])
    return np.stack([np.roll(base, 8 * i, axis=1) for i in range(n)])


def conv_stats(model, imgs):
    x = torch.from_numpy(imgs.transpose(0, 3, 1, 2)).float() / 255.0
    with torch.no_grad():
        z = model.conv(x - 0.5).double()
    return z.mean((0, 2, 3)), z.var((0, 2, 3), unbiased=False)


def test_adapt_shifts_bn_statistics_by_the_measured_fraction():
    model, imgs = Tiny(), tiny_images()
    table = 3 * FD
    mc, vc = conv_stats(model, imgs)
    mf, vf = conv_stats(model, fdjpeg.purify(imgs, table))
    before = (model.bn.running_mean.clone(), model.bn.running_var.clone())
    for a in (1.0, 0.5):
        out = adapt(model, imgs, table=table, bn_shift=a)
        assert out is not model
        torch.testing.assert_close(out.bn.running_mean.double(),
                                   before[0].double() + a * (mf - mc), rtol=0, atol=1e-5)
        torch.testing.assert_close(out.bn.running_var.double(),
                                   before[1].double() * ((vf + 1e-5) / (vc + 1e-5)) ** a,
                                   rtol=1e-4, atol=1e-6)
        assert not out.training
    # the model given is untouched (not inplace), and bn_shift=0 changes nothing
    torch.testing.assert_close(model.bn.running_mean, before[0])
    same = adapt(model, list(imgs), table=table, bn_shift=0.0)
    x = torch.rand(2, 3, 16, 16)
    torch.testing.assert_close(same(x), model(x))
    inplace = adapt(model, imgs, table=table, bn_shift=1.0, inplace=True)
    assert inplace is model


def test_adapt_shift_is_sequential():
    """The second BN layer's shift is measured on inputs that already went through the shifted
    first layer (recomputed here from the adapted model's own first block)."""
    model, imgs = Tiny(), tiny_images()
    table = 3 * FD
    out = adapt(model, imgs, table=table, bn_shift=1.0)

    def conv2_stats(m, u8):
        x = torch.from_numpy(u8.transpose(0, 3, 1, 2)).float() / 255.0
        with torch.no_grad():
            z = m.conv2(torch.relu(m.bn(m.conv(x - 0.5)))).double()
        return z.mean((0, 2, 3))

    expect = model.bn2.running_mean.double() + (conv2_stats(out, fdjpeg.purify(imgs, table))
                                                 - conv2_stats(out, imgs))
    torch.testing.assert_close(out.bn2.running_mean.double(), expect, rtol=0, atol=1e-5)


def test_adapt_self_distillation_reduces_teacher_student_gap():
    model, imgs = Tiny(), tiny_images(8)
    table = 4 * FD
    xc = torch.from_numpy(imgs.transpose(0, 3, 1, 2)).float() / 255.0
    xp = torch.from_numpy(fdjpeg.purify(imgs, table).transpose(0, 3, 1, 2)).float() / 255.0

    def gap(m):
        with torch.no_grad():
            return float(torch.nn.functional.kl_div(torch.log_softmax(m(xp), 1),
                                                    torch.log_softmax(model(xc), 1),
                                                    reduction="batchmean", log_target=True))

    conv_w = model.conv.weight.clone()
    flags = [p.requires_grad for p in model.parameters()]
    out = adapt(model, imgs, table=table, bn_shift=0.0, distill_steps=30, lr=0.05, batch_size=4)
    assert gap(out) < 0.5 * gap(model)
    torch.testing.assert_close(out.conv.weight, conv_w)  # "bn": only BN affine parameters move
    assert not torch.equal(out.bn.weight, model.bn.weight)
    assert [p.requires_grad for p in model.parameters()] == flags
    assert [p.requires_grad for p in out.parameters()] == flags
    full = adapt(model, imgs, table=table, distill_steps=5, distill_params="all", lr=0.01)
    assert not torch.equal(full.conv.weight, conv_w)


def test_design_distill_setting_runs_through_adapt():
    # the setting the design study scores (fdjpeg.eval.design.DISTILL_ADAPT_SEQ) is a valid
    # adapt() call: BN shifted, then the BN affine parameters distilled, the conv left alone
    from fdjpeg.eval.design import DISTILL_ADAPT_SEQ

    model, imgs = Tiny(), tiny_images(6)
    kw = {k: v for k, v in DISTILL_ADAPT_SEQ.items() if k != "n_images"}
    assert kw["distill_steps"] > 0 and kw["bn_shift"] > 0
    out = adapt(model, imgs, table=4 * FD, batch_size=3, **kw)
    torch.testing.assert_close(out.conv.weight, model.conv.weight)
    assert not torch.equal(out.bn.weight, model.bn.weight)
    assert not torch.equal(out.bn.running_mean, model.bn.running_mean)


def test_design_score_slow_on_a_tiny_model(tmp_path):
    # Harness.score_slow: DeepFool and CW2 crafted on the deployed model from the seed (FD-1P)
    # and from the sensor image (FD-2P), scored through purify; checked against the model's own
    # predictions on the cached examples
    pytest.importorskip("art")
    from fdjpeg.eval.design import Harness

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 32 * 32, 1000)).eval()
    with torch.no_grad():  # ImageNet-sized output, as the harness's ART classifier expects
        model[1].weight.mul_(0.1)
    imgs = np.ascontiguousarray(tiny_images(4)[:, :32, :32])
    table = 2 * FD
    h = Harness.__new__(Harness)
    h.torch, h.model_name, h.crop, h.cache = torch, "tiny", 32, tmp_path
    h.model, h.models = model, {"base": model}
    h.images = imgs
    with torch.no_grad():
        h.labels = model(torch.from_numpy(imgs.transpose(0, 3, 1, 2)).float() / 255).argmax(1).numpy()
    h.seeds = {"eval": np.arange(4)}
    design = {"luma": table, "chroma": table, "adapt": None}
    r = h.score_slow(design, seeds_n=2)
    assert r["n_seeds"] == 2 and r["model"] == "base"
    for mode, start in (("fd1p", imgs[:2]), ("fd2p", fdjpeg.purify(imgs[:2], table))):
        for att in ("deepfool", "cw2"):
            adv = h.attack("base", att, start, h.labels[:2])  # served from the cache
            assert adv.dtype == np.uint8 and adv.shape == start.shape
            pred = _defended_pred(model, table, adv)
            assert r["outcomes"][f"{mode}_{att}"] == (pred == h.labels[:2]).astype(int).tolist()
            assert r[f"{mode}_{att}"] == pytest.approx(np.mean(r["outcomes"][f"{mode}_{att}"]))


def test_adapt_rejects_bad_arguments():
    model, imgs = Tiny(), tiny_images(2)
    with pytest.raises(TypeError):
        adapt(model, imgs.astype(np.float32))
    with pytest.raises(ValueError):
        adapt(model, imgs[..., 0])
    with pytest.raises(ValueError):
        adapt(model, imgs[:0])
    with pytest.raises(ValueError):
        adapt(model, imgs, bn_shift=1.5)
    with pytest.raises(ValueError):
        adapt(model, imgs, distill_params="some")
    with pytest.raises(TypeError):
        adapt(lambda x: x, imgs)


# -- attacks through the straight-through forward (fdjpeg.eval.adaptive_st) on the tiny model --------

class Linear(torch.nn.Module):
    """A tiny classifier whose decision depends on every pixel (easy to attack, like a real net)."""

    def __init__(self, size=32):
        super().__init__()
        g = torch.Generator().manual_seed(3)
        self.fc = torch.nn.Linear(3 * size * size, 5)
        with torch.no_grad():
            self.fc.weight.copy_(torch.randn(self.fc.weight.shape, generator=g) * 0.05)
            self.fc.bias.zero_()
        self.eval()

    def forward(self, x):
        return self.fc((x - 0.5).flatten(1))


def _tiny_seeds(model, table, n=3):
    imgs = np.ascontiguousarray(tiny_images(n)[:, :32, :32])
    x = torch.from_numpy(fdjpeg.purify(imgs, table).transpose(0, 3, 1, 2)).float() / 255.0
    with torch.no_grad():
        labels = model(x).argmax(1).numpy()  # labels = the defended model's own predictions
    return imgs, labels


def _defended_pred(model, table, u8):
    x = torch.from_numpy(fdjpeg.purify(u8, table).transpose(0, 3, 1, 2)).float() / 255.0
    with torch.no_grad():
        return model(x).argmax(1).numpy()


@pytest.mark.parametrize("eps255", [2, 24])
def test_bpda_st_bounded_and_fools_with_a_large_budget(eps255):
    from fdjpeg.eval.adaptive_st import bpda_st

    model, table = Linear(), 2 * FD
    seeds, labels = _tiny_seeds(model, table)
    adv = bpda_st(model, table, seeds, labels, eps=eps255 / 255.0, max_iter=30)
    assert adv.dtype == np.uint8 and adv.shape == seeds.shape
    assert np.abs(adv.astype(int) - seeds.astype(int)).max() <= eps255
    fooled = _defended_pred(model, table, adv) != labels
    if eps255 == 24:
        assert fooled.all()
    assert (adv != seeds).any()


@pytest.mark.parametrize("loss", ["ce", "dlr"])
def test_apgd_through_fd_bounded_and_fools(loss):
    from fdjpeg.eval.adaptive_st import apgd

    model, table = Linear(), 2 * FD
    seeds, labels = _tiny_seeds(model, table)
    adv = apgd(model, table, seeds, labels, loss=loss, eps=24 / 255.0, eps_step=8 / 255.0,
               max_iter=10, batch=2)
    assert adv.dtype == np.uint8 and adv.shape == seeds.shape
    assert np.abs(adv.astype(int) - seeds.astype(int)).max() <= 24
    assert (_defended_pred(model, table, adv) != labels).all()
    with pytest.raises(ValueError):
        apgd(model, table, seeds, labels, loss="l2")


# -- merging the adaptive rows into table2.json ----------------------------------------------------

def _t2_docs():
    names = ["a", "b", "c", "d"]
    t2 = {"n_seeds": {"bpda": 4}, "git": "x" * 40, "acc_l": {"fd1x": 0.8, "fd2x": 0.7},
          "acc_m": {"bpda": {"fd1x": 0.5, "fd2x": 0.75}, "bpda_eps2": {"fd1x": 0.75}},
          "settings": {"attacks": {"bpda": {"eps_255": ["8"]}}, "fd_table": [[20] * 8] * 8,
                       "fd_table_source": "t", "purify": "p"},
          "model": "tiny", "images": "i", "n_benign": 4, "machine": "m"}
    sd = {"seed_names": names, "outcomes": {"bpda": {"fd1x": [1, 1, 0, 0], "fd2x": [1, 1, 1, 0]},
                                            "bpda_eps2": {"fd1x": [1, 1, 1, 0]}}}
    run = {"seed_names": names, "git": "y" * 40, "git_dirty": False, "command": "cmd",
           "settings": {"apgd": {"max_iter": 20}, "bpda_st": {"max_iter": 100}},
           "acc_m": {"apgd_dlr": {"fd1x": 0.25, "fd2x": 0.5}, "bpda_st_eps2": {"fd1x": 0.5}},
           "outcomes": {"apgd_dlr": {"fd1x": [0, 1, 0, 0], "fd2x": [1, 0, 1, 0]},
                        "bpda_st_eps2": {"fd1x": [1, 0, 1, 0]}}}
    return t2, sd, run


def test_merge_table2_adds_keys_sources_and_the_per_seed_strongest():
    from fdjpeg.eval.adaptive_st import merge_table2, strongest
    from fdjpeg.eval.report import markdown

    t2, sd, run = _t2_docs()
    m, msd = merge_table2(t2, sd, [("run.json", run)])
    assert "apgd_dlr" not in t2["acc_m"]  # inputs untouched
    assert m["acc_m"]["apgd_dlr"] == {"fd1x": 0.25, "fd2x": 0.5}
    assert m["n_seeds"]["apgd_dlr"] == 4 and msd["outcomes"]["bpda_st_eps2"]["fd1x"] == [1, 0, 1, 0]
    assert m["acc_m_sources"]["apgd_dlr"]["file"] == "run.json"
    assert m["acc_m_sources"]["apgd_dlr"]["git_dirty"] is False
    assert m["acc_m_sources"]["bpda"]["file"] == "table2.json"
    assert m["git_dirty"] is None and "not recorded" in m["git_dirty_note"]
    # per seed: fooled by any attack at that eps (min over the 0/1 outcomes), by hand
    assert m["strongest"]["8"]["fd1x"] == {"acc_m": 0.25, "attacks": ["bpda", "apgd_dlr"]}
    assert m["strongest"]["8"]["fd2x"]["acc_m"] == 0.5      # [1,1,1,0] & [1,0,1,0]
    assert m["strongest"]["2"]["fd1x"]["acc_m"] == 0.5      # [1,1,1,0] & [1,0,1,0]
    assert "4" not in m["strongest"]
    assert strongest({"bpda": {"fd1x": [1, 0]}}, 3) == {}  # wrong length: not counted
    md = markdown(m)
    assert "`apgd_dlr` (n=4)" in md and "**strongest, eps=8/255** | **25** (2 attacks)" in md
    assert "(tree state unknown)" in md
    # another seed list is refused
    run["seed_names"] = ["a", "b", "c", "e"]
    with pytest.raises(ValueError, match="seeds"):
        merge_table2(t2, sd, [("run.json", run)])


def test_merge_table2_cli_keeps_the_hand_written_part(tmp_path):
    from fdjpeg.eval.adaptive_st import main

    t2, sd, run = _t2_docs()
    (tmp_path / "table2.json").write_text(json.dumps(t2))
    (tmp_path / "table2.seeds.json").write_text(json.dumps(sd))
    (tmp_path / "table2.md").write_text("old table\n\n## How this was made\n\nprose\n")
    (tmp_path / "r.json").write_text(json.dumps(run))
    assert main(["--json", str(tmp_path / "r.json"), "--merge-into",
                 str(tmp_path / "table2.json")]) == 0
    md = (tmp_path / "table2.md").read_text()
    assert "old table" not in md and md.endswith("## How this was made\n\nprose\n")
    assert "APGD-DLR" in md
    m = json.loads((tmp_path / "table2.json").read_text())
    assert m["acc_m"]["apgd_dlr"]["fd2x"] == 0.5 and len(m["merge_commands"]) == 1


def test_design_report_marks_every_search_row_feasible_or_not(tmp_path):
    # design.report: each row of the search path carries "feasible" (calibration drop within the
    # budget), the chosen design says whether it is, and the markdown shows both
    pytest.importorskip("matplotlib")
    from fdjpeg.eval.design import report

    T = (2 * FD).tolist()

    def row(acc_l):
        return {"acc_l": acc_l, "adapt": None, "luma": T, "chroma": T, "fd1p_fgsm": 0.5,
                "fd1p_bim": 0.5, "fd2p_fgsm": 0.9, "fd2p_bim": 0.9, "fd1p_avg": 0.5,
                "fd2p_avg": 0.9, "n_seeds_by_run": {}}

    path = [{"steps": [], "acc_l": 0.80, "drop": 0.09, "fd1p_fgsm": 0.5, "fd1p_bim": 0.6},
            {"steps": [["luma", [1]]], "acc_l": 0.88, "drop": 0.01, "fd1p_fgsm": 0.4,
             "fd1p_bim": 0.3}]
    search = {"search": {"budget": 0.015, "path": path,
                         "chosen": {"steps": [["luma", [1]]], "feasible": True,
                                    "rule": "first prefix within the budget"}}}
    res = report(search, {"eval": {"paper": row(0.826)}, "baselines": {}},
                 tmp_path / "d.json", tmp_path / "d.md", tmp_path / "p.png", "cmd", 0.882)
    assert [p["feasible"] for p in res["search"]["path"]] == [False, True]
    assert "note" not in res["search"]["chosen"]
    assert res["eval"]["paper"]["drop_points"] == pytest.approx(5.6)
    md = (tmp_path / "d.md").read_text()
    assert "| feasible |" in md and "feasible: true" in md
    # nothing inside the budget: the chosen design is reported as infeasible
    path[1]["drop"] = 0.03
    search["search"]["chosen"]["feasible"] = False
    res = report(search, {"eval": {"paper": row(0.826)}, "baselines": {}},
                 tmp_path / "d.json", tmp_path / "d.md", tmp_path / "p.png", "cmd", 0.882)
    assert not any(p["feasible"] for p in res["search"]["path"])
    assert "no design inside the budget" in res["search"]["chosen"]["note"]
    assert json.loads((tmp_path / "d.json").read_text())["search"]["chosen"]["feasible"] is False
