"""Tests of the evaluation harness (fdjpeg.eval): labels, preprocessing, defenses, end to end.

Fast (seconds): the end-to-end run uses a tiny torch model on two generated images.
"""
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fdjpeg.eval import data as eval_data

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
IMAGENET = CORPUS / "imagenet-sample"


# -- labels ------------------------------------------------------------------------------------
def test_synset_list_is_the_standard_order():
    synsets, labels = eval_data.load_synsets()
    assert len(synsets) == 1000 and len(set(synsets)) == 1000
    # the standard ImageNet-1k order is the sorted order of the WordNet ids
    assert synsets == sorted(synsets)
    assert synsets[0] == "n01440764" and labels[0] == "tench"
    assert synsets[-1] == "n15075141"
    assert all(s.startswith("n") and len(s) == 9 and s[1:].isdigit() for s in synsets)


@pytest.mark.skipif(not IMAGENET.is_dir(), reason="shared corpus imagenet-sample not present")
def test_synset_list_matches_corpus_file_names():
    files = sorted(p.name for p in IMAGENET.iterdir() if p.suffix == ".JPEG")
    synsets, labels = eval_data.load_synsets()
    assert [f.split("_", 1)[0] for f in files] == synsets
    for i in (0, 1, 417, 999):
        assert eval_data.synset_index(files[i]) == i
        assert labels[i] == files[i].split("_", 1)[1][:-5].replace("_", " ")


def test_synset_index_errors_and_csv(tmp_path):
    assert eval_data.synset_index("dir/n01443537_anything.png") == 1
    with pytest.raises(ValueError, match="no ImageNet synset"):
        eval_data.synset_index("cat.jpg")
    with pytest.raises(ValueError, match="not one of the 1,000"):
        eval_data.synset_index("n99999999_x.jpg")
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    (tmp_path / "list.csv").write_text("path,label\na.png,7\na.png,n01443537\n")
    items = eval_data.list_images(tmp_path / "list.csv")
    assert [lab for _, lab in items] == [7, 1]
    assert Path(items[0][0]) == tmp_path / "a.png"
    (tmp_path / "bad.csv").write_text("a.png,1000\n")
    with pytest.raises(ValueError, match="out of range"):
        eval_data.list_images(tmp_path / "bad.csv")


# -- preprocessing -----------------------------------------------------------------------------
def test_to_uint8_rounding_rule():
    k = np.arange(256, dtype=np.float64)
    # floor(255 x + 0.5): exact grid values stay, halves round up, just-below-halves round down
    assert np.array_equal(eval_data.to_uint8(k / 255), k.astype(np.uint8))
    up = eval_data.to_uint8((k[:-1] + 0.5) / 255)
    assert np.array_equal(up, (k[:-1] + 1).astype(np.uint8))
    down = eval_data.to_uint8((k[1:] + 0.4999) / 255)
    assert np.array_equal(down, k[1:].astype(np.uint8))
    assert eval_data.to_uint8(np.array([-0.3, 1.7])).tolist() == [0, 255]
    # not the truncation of a plain astype(uint8)
    assert eval_data.to_uint8(np.array([0.999 / 255 * 200]))[0] == 200


def test_resize_crop_geometry():
    rng = np.random.default_rng(1)
    # a short side of exactly 256 needs no resize: the crop is a plain centre slice
    arr = rng.integers(0, 256, size=(256, 300, 3), dtype=np.uint8)
    out = eval_data.resize_crop(arr, 224)
    assert out.shape == (224, 224, 3) and out.dtype == np.uint8
    assert np.array_equal(out, arr[16:240, 38:262])
    # grey photos become three equal channels
    g = rng.integers(0, 256, size=(300, 256), dtype=np.uint8)
    out = eval_data.resize_crop(g, 224)
    assert np.array_equal(out[..., 0], g[38:262, 16:240])
    assert np.array_equal(out[..., 0], out[..., 2])
    # other sizes go through Pillow's bilinear resize of the short side to 256
    big = rng.integers(0, 256, size=(512, 700, 3), dtype=np.uint8)
    ref = np.asarray(Image.fromarray(big).resize((350, 256), Image.BILINEAR))
    assert np.array_equal(eval_data.resize_crop(big, 224), ref[16:240, 63:287])
    with pytest.raises(TypeError):
        eval_data.resize_crop(big.astype(np.float32), 224)


def test_skimage_photos_are_loaded():
    pytest.importorskip("skimage")
    names, imgs = eval_data.skimage_photos(224)
    assert {"astronaut", "chelsea", "coffee", "rocket"} <= set(names)
    assert imgs.shape == (len(names), 224, 224, 3) and imgs.dtype == np.uint8


# -- defenses ----------------------------------------------------------------------------------
def test_defense_names_and_jpeg():
    from fdjpeg.eval.defenses import Defenses

    d = Defenses(table=np.full((8, 8), 30))
    with pytest.raises(ValueError, match="unknown defense"):
        d.get("jpeg_ninety")
    with pytest.raises(ValueError, match="unknown defense"):
        d.settings("fdx")
    assert np.array_equal(d.table_for("fd3x"), np.full((8, 8), 90))
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, size=(2, 32, 40, 3), dtype=np.uint8)
    out = d.get("jpeg75")(x)
    import io
    buf = io.BytesIO()
    Image.fromarray(x[1]).save(buf, "JPEG", quality=75)
    assert np.array_equal(out[1], np.asarray(Image.open(buf)))


def test_bit_depth_closed_form():
    pytest.importorskip("art")
    from fdjpeg.eval.defenses import Defenses

    x = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1).repeat(3, axis=3)
    out = Defenses(table=np.full((8, 8), 30)).get("bit5")(x)
    ref = np.floor(np.rint(x / 255.0 * 31) / 31 * 255 + 0.5).astype(np.uint8)
    assert np.array_equal(out, ref)


def test_fd_defenses_match_pillow_round_trip():
    import fdjpeg
    from fdjpeg.eval import defenses as eval_defenses

    names, x = eval_data.skimage_photos(224)
    rng = np.random.default_rng(5)
    x = np.concatenate([x, rng.integers(0, 256, size=(2, 224, 224, 3), dtype=np.uint8)])
    table = np.asarray(fdjpeg.tables.feature_distillation()).astype(np.int64)
    d = eval_defenses.Defenses(table=table)
    assert d.purify_source == "fdjpeg.purify"
    import io
    for name in ("fd1p", "fd3x"):
        got = d.get(name)(x)
        t = d.table_for(name).ravel().tolist()
        for i in range(len(x)):
            buf = io.BytesIO()
            Image.fromarray(x[i]).save(buf, "JPEG", qtables=[t, t], subsampling=0)
            ref = np.asarray(Image.open(buf).convert("RGB"))
            assert np.array_equal(got[i], ref), (name, i)


def test_quilting_uses_database_patches():
    pytest.importorskip("sklearn")
    from fdjpeg.eval.defenses import Quilting

    db = np.full((3, 20, 20, 3), 77, dtype=np.uint8)
    db[1] = 200
    q = Quilting(db, patch=5, overlap=2, k=1, n_patches=300)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 120, size=(1, 23, 17, 3), dtype=np.uint8)
    # k=1: every patch is replaced by its nearest database patch (all 77 beat all 200)
    assert np.array_equal(q(x), np.full_like(x, 77))
    x2 = np.full((1, 23, 17, 3), 230, dtype=np.uint8)
    assert np.array_equal(q(x2), np.full_like(x2, 200))


# -- end to end --------------------------------------------------------------------------------
def tiny_model():
    """A deterministic tiny classifier: mean colour -> class 0 (reddish) or 1 (bluish)."""
    import torch

    class Tiny(torch.nn.Module):
        input_size = 32

        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(3, 1000)
            with torch.no_grad():
                self.fc.weight.zero_()
                self.fc.bias.fill_(-5.0)
                self.fc.bias[:2] = 0.0
                self.fc.weight[0] = torch.tensor([10.0, 0.0, -10.0])
                self.fc.weight[1] = torch.tensor([-10.0, 0.0, 10.0])

        def forward(self, x):
            return self.fc(x.mean(dim=(2, 3)))

    return Tiny()


def red_blue_images(tmp_path, seed):
    """A folder of two labelled photos the tiny model tells apart: (folder, red, blue).  Red's
    mean R is well above its mean B: class 0 (n01440764); blue is red with R and B swapped:
    class 1 (n01443537)."""
    rng = np.random.default_rng(seed)
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    red = rng.integers(0, 60, size=(40, 48, 3), dtype=np.uint8)
    red[..., 0] += 150
    blue = red[..., ::-1].copy()
    Image.fromarray(red).save(imgs / "n01440764_red.png")
    Image.fromarray(blue).save(imgs / "n01443537_blue.png")
    return imgs, red, blue


def test_end_to_end_tiny_model(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    pytest.importorskip("art")
    torch.set_num_threads(1)
    from fdjpeg.eval import run as evaluate

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent))
    imgs, red, blue = red_blue_images(tmp_path, 7)
    # a third image the model gets wrong (labelled class 2): never a seed
    Image.fromarray(red).save(imgs / "n01484850_wrong.png")
    out_json = tmp_path / "res.json"
    rc = evaluate.main(["--images", str(imgs), "--model", "test_evaluate:tiny_model",
                        "--benign", "3", "--seeds", "2", "--attack-seeds", "bpda=1",
                        "--attacks", "fgsm,bpda", "--defenses", "none,fd1p,fd2p",
                        "--bpda-eps", "8", "--bpda-sweep", "", "--cache",
                        str(tmp_path / "cache"), "--json", str(out_json), "--out",
                        str(tmp_path / "out"), "--no-progress"])
    assert rc == 0
    res = json.loads(out_json.read_text())
    assert set(res) >= {"model", "images", "n_benign", "n_seeds", "settings", "versions", "git",
                        "machine", "attack_success", "norms", "acc_l", "acc_m",
                        "seconds_per_image"}
    assert res["n_benign"] == 3 and res["n_seeds"] == {"fgsm": 2, "bpda": 1}
    # independent: the tiny model's rule on the mean colour of each preprocessed image
    x = np.stack([eval_data.resize_crop(Image.open(p), 32)
                  for p in sorted(imgs.iterdir())]).astype(np.float64)
    rule = np.where(x[..., 0].mean((1, 2)) > x[..., 2].mean((1, 2)), 0, 1)
    labels = np.array([0, 1, 2])
    assert res["acc_l"]["none"] == pytest.approx((rule == labels).mean())
    for sec in ("acc_l", "seconds_per_image"):
        assert set(res[sec]) == {"none", "fd1p", "fd2p"}
    for att, per in res["acc_m"].items():
        assert set(per) == {"none", "fd1p", "fd2p"}, att
        assert all(0.0 <= v <= 1.0 for v in per.values())
    assert res["acc_m"]["fgsm"]["none"] == pytest.approx(1 - res["attack_success"]["fgsm"])
    # FGSM at 2/255 moves every pixel by at most 2 levels after uint8 rounding
    assert 0 < res["norms"]["fgsm"]["linf_255"] <= 2.0 + 1e-9
    assert res["norms"]["bpda"]["none"]["linf_255"] <= 8.0 + 1e-9
    assert res["settings"]["attacks"]["fgsm"]["eps"] == pytest.approx(2 / 255)
    assert np.array(res["settings"]["fd_table"]).shape == (8, 8)
    seeds = json.loads(out_json.with_suffix(".seeds.json").read_text())
    assert seeds["seed_names"] == ["n01440764_red.png", "n01443537_blue.png"]
    assert len(seeds["outcomes"]["fgsm"]["fd2p"]) == 2
    md = (tmp_path / "out" / "res.md").read_text()
    assert "fd1p" in md and "acc_l" in md
    # a second run is served from the cache and gives the same numbers
    rc = evaluate.main(["--images", str(imgs), "--model", "test_evaluate:tiny_model",
                        "--benign", "3", "--seeds", "2", "--attacks", "fgsm",
                        "--defenses", "none,fd1p,fd2p", "--cache", str(tmp_path / "cache"),
                        "--json", str(tmp_path / "again.json"), "--no-progress"])
    assert rc == 0
    again = json.loads((tmp_path / "again.json").read_text())
    assert again["acc_m"]["fgsm"] == res["acc_m"]["fgsm"]


def test_paper_design_columns_split_command_and_cache(tmp_path, monkeypatch):
    # fd1p_paper/fd2p_paper are the paper's design; when it is the table of fd1p/fd2p they are
    # computed once and reported under both names; split, command and the cache's state at the
    # start are recorded.
    pytest.importorskip("torch")
    pytest.importorskip("art")
    from fdjpeg import tables
    from fdjpeg.eval import run as evaluate
    from fdjpeg.eval.defenses import Defenses

    d = Defenses()
    assert np.array_equal(d.table_for("fd1p_paper"),
                          tables.feature_distillation(s_md=30, s_as=20, n_as=15))
    assert d.two_pass("fd2p_paper") and not d.two_pass("fd1p_paper")
    assert evaluate.Evaluation.same_defenses(d, ["none", "fd1p", "fd2p", "fd1p_paper",
                                                 "fd2p_paper", "fd2x"]) == \
        {"fd1p_paper": "fd1p", "fd2p_paper": "fd2p"}
    # another table for fd1p: the paper's columns are their own
    d30 = Defenses(table=np.full((8, 8), 30))
    assert evaluate.Evaluation.same_defenses(d30, ["fd1p", "fd1p_paper"]) == {}
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent))
    imgs = red_blue_images(tmp_path, 5)[0]
    argv = ["--images", str(imgs), "--model", "test_evaluate:tiny_model", "--benign", "2",
            "--seeds", "2", "--attacks", "fgsm",
            "--defenses", "none,fd1p,fd2p,fd1p_paper,fd2p_paper",
            "--cache", str(tmp_path / "cache"), "--json", str(tmp_path / "r.json"), "--out",
            str(tmp_path / "out"), "--no-progress"]
    assert evaluate.main(argv) == 0
    res = json.loads((tmp_path / "r.json").read_text())
    assert list(res["acc_l"]) == ["none", "fd1p", "fd2p", "fd1p_paper", "fd2p_paper"]
    assert res["acc_l"]["fd1p_paper"] == res["acc_l"]["fd1p"]
    assert res["acc_m"]["fgsm"]["fd2p_paper"] == res["acc_m"]["fgsm"]["fd2p"]
    assert set(res["settings"]["same_as"]) == {"fd1p_paper", "fd2p_paper"}
    assert res["settings"]["defenses"]["fd1p_paper"]["table"].startswith(
        "fdjpeg.tables.feature_distillation(s_md=30")
    assert res["split"].startswith("evaluation: images 0..1 of")
    assert res["command"] == "fdjpeg eval " + " ".join(argv)
    assert res["settings"]["cache_files_at_start"] == 0
    assert res["git_dirty"] in (True, False, None)
    seeds = json.loads((tmp_path / "r.seeds.json").read_text())
    assert seeds["outcomes"]["fgsm"]["fd1p_paper"] == seeds["outcomes"]["fgsm"]["fd1p"]
    md = (tmp_path / "out" / "r.md").read_text()
    assert "| fd2p_paper |" in md and "Split: evaluation" in md
    # the rerun finds the cache filled by the first run
    assert evaluate.main(argv) == 0
    again = json.loads((tmp_path / "r.json").read_text())
    assert again["settings"]["cache_files_at_start"] > 0
    assert again["acc_m"] == res["acc_m"]


def test_each_two_pass_defense_is_attacked_from_its_own_sensor(tmp_path, monkeypatch):
    # with another FD table, fd2p and fd2p_paper are different transforms: each one's examples
    # start from the seeds encoded with its own table (the sensor), not from the other's
    pytest.importorskip("torch")
    pytest.importorskip("art")
    from fdjpeg.eval import run as evaluate
    from fdjpeg.eval.defenses import Defenses

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent))
    imgs = red_blue_images(tmp_path, 7)[0]
    argv = ["--images", str(imgs), "--model", "test_evaluate:tiny_model", "--benign", "2",
            "--seeds", "2", "--attacks", "fgsm", "--fd-table", "60",
            "--defenses", "none,fd2p,fd2p_paper",
            "--cache", str(tmp_path / "cache"), "--json", str(tmp_path / "r.json"), "--out",
            str(tmp_path / "out"), "--no-progress"]
    assert evaluate.main(argv) == 0
    res = json.loads((tmp_path / "r.json").read_text())
    assert "same_as" not in res["settings"] or not res["settings"]["same_as"]
    assert {"fgsm@sensor", "fgsm@sensor_fd2p_paper"} <= set(res["attack_success"])
    names = sorted(p.name for p in (tmp_path / "cache").rglob("*.npz"))
    assert any(n.startswith("fgsm-sensorfd2p-") for n in names)
    assert any(n.startswith("fgsm-sensorfd2p_paper-") for n in names)
    # the paper column scores the paper-sensor examples through the paper's round trip
    from fdjpeg.eval import models
    d = Defenses(table=np.full((8, 8), 60))
    want = np.array(json.loads((tmp_path / "r.seeds.json").read_text())["seed_labels"])
    for name in ("fd2p", "fd2p_paper"):
        adv = np.load(next((tmp_path / "cache").rglob(f"fgsm-sensor{name}-*.npz")))["data"]
        pred = models.predict(tiny_model(), d.get(name)(adv))
        assert res["acc_m"]["fgsm"][name] == float((pred == want).mean())
    a1 = np.load(next((tmp_path / "cache").rglob("fgsm-sensorfd2p-*.npz")))["data"]
    a2 = np.load(next((tmp_path / "cache").rglob("fgsm-sensorfd2p_paper-*.npz")))["data"]
    assert not np.array_equal(a1, a2)


def test_matched_compares_on_the_same_first_seeds(tmp_path, capsys):
    from fdjpeg.eval import report

    outcomes = {"fgsm": {"fd1p": [1, 0, 1, 1, 0, 0], "tvm": [1, 1, 0]},
                "bim": {"fd1p": [0, 0, 1, 1], "tvm": [1, 0]}}
    m = report.matched(outcomes, 3)
    assert m == {"fgsm": {"fd1p": 2 / 3, "tvm": 2 / 3}, "bim": {"fd1p": 1 / 3}}
    md = report.matched_markdown(outcomes, 3)
    assert "| fd1p | 67 | 33 | 50 |" in md and "| tvm | 67 | — | — |" in md
    f = tmp_path / "s.json"
    f.write_text(json.dumps({"outcomes": outcomes}))
    assert report.main([str(f), "--n", "2"]) == 0
    assert "| tvm | 100 | 50 | 75 |" in capsys.readouterr().out


def test_cli_errors_return_2(tmp_path, capsys):
    pytest.importorskip("torch")
    from fdjpeg.eval import run as evaluate

    assert evaluate.main(["--images", str(tmp_path / "missing"), "--model",
                          "no_such_module:f"]) == 2
    assert "error" in capsys.readouterr().err
    assert evaluate.build_parser().parse_args([]).model == "efficientnet-lite0"


def test_deepfool_runs_one_image_at_a_time(tmp_path):
    # ART's DeepFool takes the gradients of the union of every input's top classes: batched, an
    # image's step depends on its neighbours.  The harness runs it per image; check that the
    # cached batch equals ART on each image alone.
    pytest.importorskip("art")
    import torch

    from fdjpeg.eval import attacks as A
    from fdjpeg.eval.models import art_classifier

    torch.manual_seed(0)
    model = tiny_model()
    with torch.no_grad():  # runner-up classes that depend on the colour: top-5 differ by image
        model.fc.weight[2:40] = torch.randn(38, 3) * 4.0
        model.fc.bias[2:40] = -2.0
    clf = art_classifier(model, 32)
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, size=(3, 32, 32, 3), dtype=np.uint8)
    x[0, ..., 0] = 200
    x[1, ..., 2] = 200
    labels = np.array([0, 1, 0])
    cache = A.Cache(tmp_path, "deepfool", "k", 3, x.shape[1:], np.uint8)
    got = A.run_art_attack("deepfool", clf, x, labels, cache, batch=3)
    attack = A.make_art_attack("deepfool", clf, 1)
    for i in range(3):
        xi = x[i:i + 1].transpose(0, 3, 1, 2).astype(np.float32) / 255.0
        yi = np.eye(1000, dtype=np.float32)[labels[i:i + 1]]
        ref = eval_data.to_uint8(attack.generate(x=xi, y=yi)).transpose(0, 2, 3, 1)
        assert np.array_equal(got[i:i + 1], ref), i
    assert cache.done.all() and A.ATTACK_PARAMS["deepfool"]["per_image"]


def test_attack_retry_only_for_seeds_the_first_run_misses(tmp_path):
    # A "retry" entry reruns the attack with overridden parameters on the seeds whose rounded
    # output is still classified correctly (CW0 uses it); seeds the first run fools keep its
    # output, and seeds already done in the cache are not attacked again.
    pytest.importorskip("art")
    from fdjpeg.eval import attacks as A
    from fdjpeg.eval.models import art_classifier

    clf = art_classifier(tiny_model(), 32)
    x = np.zeros((3, 32, 32, 3), dtype=np.uint8)
    x[0] = (129, 128, 127)  # a hair's breadth from the boundary: FGSM at 2/255 flips it
    x[1] = (230, 128, 20)   # far from it: 2/255 cannot, 0.5 can
    x[2] = (230, 128, 20)   # done before the run: left as it is
    labels = np.array([0, 0, 0])
    p = {"art": "FastGradientMethod", "norm": "inf", "eps": 2 / 255, "retry": {"eps": 0.5}}
    cache = A.Cache(tmp_path, "fgsm", "k", 3, x.shape[1:], np.uint8)
    cache.data[2] = 7
    cache.done[2] = True
    got = A.run_art_attack("fgsm", clf, x, labels, cache, batch=3, params=p)
    pred = clf.predict(got.transpose(0, 3, 1, 2).astype(np.float32) / 255.0).argmax(1)
    assert pred[0] == 1 and np.abs(got[0].astype(int) - x[0]).max() == 2  # first run kept
    assert pred[1] == 1 and np.abs(got[1].astype(int) - x[1]).max() > 100  # the retry's
    assert (got[2] == 7).all() and cache.done.all()
    p.pop("retry")
    cache = A.Cache(tmp_path / "b", "fgsm", "k", 3, x.shape[1:], np.uint8)
    got = A.run_art_attack("fgsm", clf, x, labels, cache, batch=3, params=p)
    assert clf.predict(got[1:2].transpose(0, 3, 1, 2).astype(np.float32) / 255.0).argmax() == 0


def test_ongrid_attack_stays_on_the_grid():
    # the two-pass adaptive attack edits the sensor's quantized coefficients by whole steps: the
    # defender's requantization (purify with T) must leave its output (nearly) unchanged, the
    # coefficients it re-derives must be the sensor's +-2 steps, and the tiny model is fooled
    pytest.importorskip("torch")
    import fdjpeg
    from fdjpeg.eval import attacks as A

    model = tiny_model()
    x = np.zeros((2, 32, 32, 3), dtype=np.uint8)
    x[0] = (112, 110, 108)  # reddish by a margin a few DC steps of chroma can flip
    x[1] = (108, 110, 112)
    T = np.full((8, 8), 12)
    sensors, advs, st = A.ongrid(model, x, np.array([0, 1]), T, k=4, max_iter=60, budget=2)
    assert st["fooled"] == [True, True]
    for i in range(2):
        assert np.array_equal(sensors[i], fdjpeg.decode(fdjpeg.encode(x[i], T)))
        q0 = np.stack(fdjpeg.read_coefficients(fdjpeg.encode(x[i], T))["coefficients"])
        q = np.stack(fdjpeg.read_coefficients(fdjpeg.encode(advs[i], T))["coefficients"])
        d = q.astype(int) - q0
        assert 1 <= np.abs(d).max() <= 2 and (d != 0).sum() == st["coefficients_changed"][i]
        assert st["purify_changed_pixels"][i] == float((fdjpeg.purify(advs[i], T) != advs[i]).mean())
        assert st["purify_changed_pixels"][i] < 0.05
        with __import__("torch").no_grad():
            t = __import__("torch").from_numpy(fdjpeg.purify(advs[i], T).transpose(2, 0, 1).copy())
            assert int(model(t[None].float() / 255).argmax()) != i


# -- every number traceable (issue 15 §3) ------------------------------------------------------
def test_photos_run_scores_agreement_on_confident_seeds(tmp_path, monkeypatch):
    # With no --images the photos carry no ImageNet labels: the scores are agreement with the
    # model's own clean predictions, and only photos it classifies with softmax confidence
    # >= 0.5 are attacked.  Independent: the tiny model's softmax in closed form.
    pytest.importorskip("torch")
    pytest.importorskip("art")
    pytest.importorskip("skimage")
    from fdjpeg.eval import run as evaluate

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent))
    out_json = tmp_path / "photos.json"
    rc = evaluate.main(["--model", "test_evaluate:tiny_model", "--attacks", "fgsm",
                        "--defenses", "none,fd1p", "--cache", str(tmp_path / "cache"),
                        "--json", str(out_json), "--out", str(tmp_path / "out"),
                        "--no-progress"])
    assert rc == 0
    res = json.loads(out_json.read_text())
    names, x = eval_data.skimage_photos(32)
    m = x.astype(np.float64).mean((1, 2)) / 255.0
    z = 10.0 * (m[:, 0] - m[:, 2])  # logit of class 0; class 1 has -z, the other 998 have -5
    conf = np.exp(np.abs(z)) / (np.exp(z) + np.exp(-z) + 998 * np.exp(-5.0))
    want = [n for n, c in zip(names, conf) if c >= 0.5]
    assert 0 < len(want) < len(names)  # the rule keeps some photos and drops others
    seeds = json.loads(out_json.with_suffix(".seeds.json").read_text())
    assert seeds["seed_names"] == want
    assert res["metric"] == "agreement" and res["n_seeds"]["fgsm"] == len(want)
    assert res["settings"]["min_confidence"] == 0.5
    np.testing.assert_allclose(res["settings"]["seed_confidence"], conf[conf >= 0.5], atol=1e-3)
    assert "confidence >= 0.5" in res["settings"]["seed_rule"]
    assert res["acc_l"]["none"] == 1.0  # agreement of the clean model with itself
    md = (tmp_path / "out" / "photos.md").read_text()
    assert "agreement" in md and "not accuracy" in md and "agree_l" in md
    assert "bench/results/table1.md" in md and "(69.5)" not in md  # no paper accuracy beside
    # a threshold no photo reaches: no seeds, a clear error (exit 2)
    assert evaluate.main(["--model", "test_evaluate:tiny_model", "--attacks", "fgsm",
                          "--defenses", "none", "--cache", str(tmp_path / "cache"),
                          "--min-confidence", "0.999", "--no-progress"]) == 2


def test_git_dirty_follows_git_status(tmp_path):
    import shutil
    import subprocess

    from fdjpeg.eval.report import git_dirty, git_sha, provenance

    if shutil.which("git") is None:
        pytest.skip("git not installed")
    assert git_dirty(tmp_path) is None and git_sha(tmp_path) == ""  # not a work tree

    def git(*a):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *a], cwd=tmp_path,
                       check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "a.txt").write_text("1\n")
    git("add", "a.txt")
    git("commit", "-q", "-m", "one")
    assert git_dirty(tmp_path) is False and len(git_sha(tmp_path)) == 40
    (tmp_path / "a.txt").write_text("2\n")
    assert git_dirty(tmp_path) is True
    git("commit", "-q", "-am", "two")
    (tmp_path / "new.txt").write_text("untracked\n")
    assert git_dirty(tmp_path) is True
    # and every results JSON of the evaluation carries it beside the commit
    repo = Path(__file__).resolve().parents[1]
    status = subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True,
                            text=True)
    p = provenance()
    if status.returncode == 0:
        assert p["git_dirty"] is bool(status.stdout.strip())
    assert {"git", "git_dirty", "versions", "machine"} <= set(p)


def _stand_in_search(max_loss):
    # A tiny stand-in for the table search: clean accuracy falls and robustness rises with the
    # steps, in closed form; the base accuracy is 0.90.
    from fdjpeg.eval import search_fd_table as S

    grid = {"n": [6, 15], "s_as": [2, 4, 8], "s_md": [10, 20, 30], "chroma": [0]}
    scored = {}

    def score(c):
        acc_l = 0.90 - 0.002 * c["s_as"] - 0.001 * c["s_md"] - 0.0005 * c["n"]
        avg_m = 0.01 * c["s_as"] + 0.01 * c["s_md"] + 0.001 * c["n"]
        r = {"acc_l": acc_l, "acc_m": {"fgsm": avg_m, "bim": avg_m}, "avg_m": avg_m}
        scored[json.dumps(c)] = r
        return r

    def feasible(r):
        return S.within_budget(r, 0.90, max_loss)

    best, best_r = S.coordinate_search(score, feasible, {"n": 15, "s_as": 8, "s_md": 20,
                                                         "chroma": 0}, grid, rounds=6,
                                       log=lambda m: None)
    return S, grid, scored, best, best_r


def test_table_search_returns_only_feasible_designs():
    # budget 4 points (acc_l >= 0.86); the start (0.8565) is outside it
    S, grid, scored, best, best_r = _stand_in_search(0.04)
    assert best is not None and best_r["acc_l"] >= 0.86 - 1e-9
    # the best feasible design scored, and no feasible grid neighbour of it does better
    feas = [r for r in scored.values() if r["acc_l"] >= 0.86 - 1e-9]
    assert best_r["avg_m"] == max(r["avg_m"] for r in feas)
    for coord, values in grid.items():
        i = values.index(best[coord])
        for j in (i - 1, i + 1):
            if 0 <= j < len(values):
                c = dict(best, **{coord: values[j]})
                acc_l = 0.90 - 0.002 * c["s_as"] - 0.001 * c["s_md"] - 0.0005 * c["n"]
                avg_m = 0.01 * c["s_as"] + 0.01 * c["s_md"] + 0.001 * c["n"]
                assert c["s_as"] > c["s_md"] or acc_l < 0.86 - 1e-9 or avg_m <= best_r["avg_m"]
    rows = S.candidate_rows(scored, 0.90, 0.04)
    assert rows and all(isinstance(r["feasible"], bool) for r in rows)
    assert [r["feasible"] for r in rows] == [r["acc_l"] >= 0.86 - 1e-9 for r in rows]
    # a start outside the budget walks down to it (budget 2 points: 0.9 - 0.016 - 0.02 < 0.88)
    S, grid, scored, best, best_r = _stand_in_search(0.02)
    assert best is not None and best_r["acc_l"] >= 0.88 - 1e-9
    # no design within 0.1 point: none is returned, and the report says so
    S, grid, scored, best, best_r = _stand_in_search(0.001)
    assert best is None and best_r is None
    assert not any(r["feasible"] for r in S.candidate_rows(scored, 0.90, 0.001))
    paper = {"params": {"n": 15, "s_as": 20, "s_md": 30, "chroma": 0}, "feasible": False,
             "table": [[1] * 8] * 8, "acc_l_eval": 0.8, "acc_m_fd1p": {"fgsm": 0.5},
             "acc_m_fd2p": {"fgsm": 0.9, "bim": 0.9}, "n_seeds": {"fgsm": 100}}
    res = {"model": "tiny", "split": 500, "cal_images": 500, "cal_seeds": 100, "max_loss": 0.001,
           "git": "abc", "git_dirty": False, "machine": "m", "seconds": 1.0,
           "clean_acc_cal": 0.90, "clean_acc_eval": 0.9,
           "candidates": S.candidate_rows(scored, 0.90, 0.001),
           "result": {"searched": {"params": None, "table": None, "calibration": None,
                                   "feasible": False}, "paper": paper}}
    md = S.markdown(res, type("A", (), {"threads": 1, "max_loss": 0.001})())
    assert "No candidate is feasible" in md and "| searched |" not in md


def test_table_search_annotate_marks_an_old_out_of_budget_result(tmp_path):
    # an old result (no "feasible" keys) whose searched design lies outside its budget:
    # annotate() adds the keys from the stored numbers and flags the design, changing no number
    from fdjpeg.eval import search_fd_table as S

    cand = [{"n": 15, "s_as": 2, "s_md": 10, "chroma": 0, "acc_l": 0.878, "acc_m": {"fgsm": 0.2},
             "avg_m": 0.2},
            {"n": 21, "s_as": 2, "s_md": 10, "chroma": 0, "acc_l": 0.884, "acc_m": {"fgsm": 0.1},
             "avg_m": 0.1}]
    old = {"model": "tiny", "max_loss": 0.01, "clean_acc_cal": 0.89, "candidates": cand,
           "result": {"searched": {"params": {"n": 15}, "calibration": dict(cand[0]),
                                   "acc_l_eval": 0.874, "acc_m_fd1p": {"fgsm": 0.26}},
                      "paper": {"params": {"n": 15}, "calibration": {"acc_l": 0.812}}}}
    r = S.annotate(old)
    assert "feasible" not in old["candidates"][0]  # input untouched
    assert [c["feasible"] for c in r["candidates"]] == [False, True]  # 0.878 < 0.88 <= 0.884
    assert r["result"]["searched"]["feasible"] is False and r["result"]["searched"]["not_a_result"]
    assert r["result"]["paper"]["feasible"] is False and r["feasible_candidates"] == 1
    assert r["candidates"][0]["acc_l"] == 0.878 and "nothing re-measured" in r["annotated"]
    f = tmp_path / "t.json"
    f.write_text(json.dumps(old))
    assert S.main(["--annotate", str(f)]) == 0
    assert json.loads(f.read_text()) == r


def test_studies_run_as_eval_subcommands(tmp_path, capsys):
    # fdjpeg eval <study> runs the research module's main with the remaining arguments
    pytest.importorskip("skimage")
    from fdjpeg import cli
    from fdjpeg.eval import STUDIES

    assert set(STUDIES) == {"adaptive-attacks", "search-fd-table", "offgrid-auc",
                            "design-fd-table", "twopass-grid", "design", "adaptive-st"}
    for name in STUDIES:  # every study answers --help through the subcommand (cli maps exit 0)
        assert cli.main(["eval", name, "--help"]) == 0
        assert capsys.readouterr().out.startswith("usage:")
    out = tmp_path / "grid.md"
    assert cli.main(["eval", "twopass-grid", "--n", "0", "--out", str(out)]) == 0
    text = out.read_text()
    assert "| 4:4:4 |" in text and "python -m fdjpeg.eval.twopass_grid --n 0" in text


def test_eval_fd_table_takes_the_table_vocabulary():
    """`fdjpeg eval --fd-table SPEC` reads any fdjpeg.tables.parse form (issue 14: one vocabulary)."""
    import numpy as np

    from fdjpeg import tables
    from fdjpeg.eval.defenses import Defenses
    from fdjpeg.eval.run import EvalConfig, _config_table, build_parser

    ns = build_parser().parse_args(["--fd-table", "q50"])
    cfg = EvalConfig.from_args(ns)
    t = _config_table(cfg)
    assert t.shape == (2, 8, 8)
    assert np.array_equal(t[0], tables.standard(50)) and np.array_equal(t[1], tables.standard(50, chroma=True))
    assert np.array_equal(Defenses(table=t).table, t)
    assert np.array_equal(_config_table(EvalConfig(fd_table="fd")), tables.feature_distillation())
    assert np.array_equal(_config_table(EvalConfig(fd_table="7")), np.full((8, 8), 7))
    assert _config_table(EvalConfig()) is None  # the default table, recorded as its source
    with pytest.raises(ValueError, match="--fd-table"):
        _config_table(EvalConfig(fd_table="no-such-table"))


def test_merge_table1_takes_named_attacks_from_the_older_run(tmp_path):
    from fdjpeg.eval import merge_table1 as M

    T = [[20] * 8] * 8
    fresh = {"model": "tiny", "images": "i", "n_benign": 4, "git": "f" * 40, "git_dirty": False,
             "machine": "m", "command": "fdjpeg eval new", "n_seeds": {"fgsm": 2},
             "acc_l": {"none": 1.0, "fd1p": 0.5, "fd1p_paper": 0.5},
             "acc_m": {"fgsm": {"none": 0.0, "fd1p": 0.5, "fd1p_paper": 0.5}},
             "attack_success": {"fgsm": 1.0}, "norms": {"fgsm": {"l0_fraction": 1, "l2": 1,
                                                                 "linf_255": 2}},
             "seconds_per_image": {"none": 0.0, "fd1p": 0.001, "fd1p_paper": 0.001},
             "settings": {"fd_table": T, "fd_table_source": "t", "purify": "p",
                          "same_as": {"fd1p_paper": "fd1p: the same table"},
                          "attacks": {"fgsm": {}}}}
    fresh_sd = {"seed_names": ["a", "b"], "outcomes": {"fgsm": {"none": [0, 0], "fd1p": [1, 0],
                                                                "fd1p_paper": [1, 0]}}}
    old = {"git": "o" * 40, "n_seeds": {"cw0": 2}, "acc_m": {"cw0": {"none": 0.0, "fd1p": 1.0}},
           "attack_success": {"cw0": 1.0, "cw0@sensor": 0.5},
           "norms": {"cw0": {"l0_fraction": 0.2, "l2": 0.5, "linf_255": 6}},
           "settings": {"fd_table": T, "attacks": {"cw0": {"art": "CarliniL0Method"}}}}
    old_sd = {"seed_names": ["a", "b"], "outcomes": {"cw0": {"none": [0, 0], "fd1p": [1, 1]}}}
    res, sd = M.merge(fresh, fresh_sd, old, old_sd, ["cw0"], "old.json")
    assert res["acc_m"]["cw0"] == {"none": 0.0, "fd1p": 1.0, "fd1p_paper": 1.0}
    assert sd["outcomes"]["cw0"]["fd1p_paper"] == [1, 1] and res["n_seeds"]["cw0"] == 2
    assert res["attack_success"]["cw0@sensor"] == 0.5 and res["norms"]["cw0"]["linf_255"] == 6
    assert res["acc_m_sources"]["cw0"]["file"] == "old.json"
    assert res["acc_m_sources"]["cw0"]["this_run"] is False
    assert res["acc_m_sources"]["fgsm"]["this_run"] is True
    assert res["acc_m"]["fgsm"] == fresh["acc_m"]["fgsm"] and "cw0" not in fresh["acc_m"]
    with pytest.raises(ValueError, match="seeds"):
        M.merge(fresh, fresh_sd, old, dict(old_sd, seed_names=["b", "a"]), ["cw0"], "o")
    with pytest.raises(ValueError, match="no 'cw2'"):
        M.merge(fresh, fresh_sd, old, old_sd, ["cw2"], "o")
    # the command line: files, seeds companion, markdown with the hand-written part kept
    for name, doc, s in (("new", fresh, fresh_sd), ("old", old, old_sd)):
        (tmp_path / f"{name}.json").write_text(json.dumps(doc))
        (tmp_path / f"{name}.seeds.json").write_text(json.dumps(s))
    (tmp_path / "t1.md").write_text("stale\n## How this was made\nprose\n")
    assert M.main([str(tmp_path / "new.json"), str(tmp_path / "old.json"), "--attacks", "cw0",
                   "--json", str(tmp_path / "t1.json"), "--md", str(tmp_path / "t1.md"),
                   "--old-name", "old run"]) == 0
    md = (tmp_path / "t1.md").read_text()
    assert "stale" not in md and md.endswith("## How this was made\nprose\n")
    assert "`cw0` rows: from old run" in md and "cw0 (n=2)" in md
    assert json.loads((tmp_path / "t1.seeds.json").read_text())["outcomes"]["cw0"]["fd1p"] == [1, 1]
