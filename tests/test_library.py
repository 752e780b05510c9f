"""The adapter library and adapter combination, with PEFT as the oracle: combine() against PEFT's
add_weighted_adapter, the exported library loaded by PEFT, the library's mixes against PEFT's "cat"."""
import copy
import dataclasses
import io
import json
import re
import runpy
import warnings
import zipfile

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from safetensors.torch import load_file

from lora_demo import evaluate
from lora_demo.config import DataConfig, LoRAConfig, ModelConfig, RunConfig, ShiftConfig, TrainConfig
from lora_demo.data import grid, make_tasks
from lora_demo.insights.common import frozen_base
from lora_demo.insights.library import (MIX_WEIGHTS, adapter_model, build_library, catalogue, library_models,
                                        other_dataset)
from lora_demo.library_export import export_library, library_zip
from lora_demo.methods import METHODS
from lora_demo.methods.combine import combine, combined_model
from lora_demo.methods.lora import add_lora, lora_layers
from lora_demo.model import BaseModel
from lora_demo.plots.library import library_figures, mix_figure, switch_figure
from lora_demo.plots.style import probability_image
from lora_demo.engine import train

peft = pytest.importorskip("peft")
from peft import LoraConfig, PeftModel, get_peft_model  # noqa: E402

TOL = 1e-5
# name -> (r, lora_alpha, target layers); fc1 is 2 -> 16, fc2 16 -> 16, fc3 16 -> 3
SPECS = {"t1": (4, 8, ["fc1", "fc2", "fc3"]), "t2": (4, 16, ["fc1", "fc2", "fc3"]),
         "t3": (2, 4, ["fc1", "fc2", "fc3"]), "only2": (3, 3, ["fc2"]),
         "u1": (4, 8, ["fc3"]), "u2": (4, 4, ["fc3"])}
X = torch.randn(200, 2, generator=torch.Generator().manual_seed(11))


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny tensors: a second intra-op thread only adds waiting on a busy 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def make_pair(use_rslora=False, names=tuple(SPECS)):
    """A PEFT model with the SPECS adapters (random, non-zero A and B) and the same adapters as ours."""
    g = torch.Generator().manual_seed(0)
    base = BaseModel(2, 16, 3, hidden_layers=2, generator=g).requires_grad_(False)
    first, *rest = names
    cfg = lambda n: LoraConfig(r=SPECS[n][0], lora_alpha=SPECS[n][1], target_modules=SPECS[n][2],  # noqa: E731
                               use_rslora=use_rslora)
    theirs = get_peft_model(copy.deepcopy(base), cfg(first), adapter_name=first)
    for n in rest:
        theirs.add_adapter(n, cfg(n))
    ours = {}
    for n in names:
        r, alpha, targets = SPECS[n]
        ours[n] = add_lora(copy.deepcopy(base), targets, r, alpha, use_rslora)
        with torch.no_grad():
            for t in targets:
                layer = theirs.base_model.model.get_submodule(t)
                layer.lora_A[n].weight.copy_(torch.randn(r, layer.in_features, generator=g) * 0.2)
                layer.lora_B[n].weight.copy_(torch.randn(layer.out_features, r, generator=g) * 0.2)
                ours[n].get_submodule(t).A.weight.copy_(layer.lora_A[n].weight)
                ours[n].get_submodule(t).B.weight.copy_(layer.lora_B[n].weight)
    return base, theirs, ours


@pytest.fixture(scope="module")
def pair():
    return make_pair()


def peft_factors(theirs, name):
    return {t: (m.lora_A[name].weight.detach(), m.lora_B[name].weight.detach())
            for t, m in theirs.base_model.model.named_modules() if hasattr(m, "lora_A") and name in m.lora_A}


CASES = [  # (adapters, weights, combination_type, keyword arguments)
    (["t1", "t2"], [0.7, -0.3], "linear", {}),
    (["t1", "t3"], [0.7, -0.3], "cat", {}),
    (["t1", "t2", "t3"], [0.5, 0.3, 0.2], "cat", {}),
    (["t1", "only2"], [1.0, 2.0], "cat", {}),           # different layers: zero rows where one is missing
    (["t1"], [0.6], "svd", {}),                         # one adapter: PEFT always uses linear
    (["t1", "t2"], [0.7, -0.3], "svd", {"svd_rank": 2}),
    (["t1", "t2", "t3"], [1.0, 0.5, -2.0], "svd", {"svd_rank": 1}),
    (["t1", "t2"], [0.7, -0.3], "svd", {"svd_rank": 2, "svd_clamp": 0.9}),
    (["t1", "t2"], [1.0, 1.0], "svd", {"full_matrices": False}),  # rank 4 > fc1's 2: PEFT truncates to 2
]


@pytest.mark.parametrize("adapters,weights,kind,kw", CASES)
def test_combine_equals_peft_add_weighted_adapter(pair, adapters, weights, kind, kw):
    base, theirs, ours = pair
    name = f"c{CASES.index((adapters, weights, kind, kw))}"
    peft_kw = {("svd_full_matrices" if k == "full_matrices" else k): v for k, v in kw.items()}
    theirs.add_weighted_adapter(adapters, weights, name, combination_type=kind, **peft_kw)
    combined = combine([ours[a] for a in adapters], weights, kind, **kw)
    assert combined.rank == theirs.peft_config[name].r == theirs.peft_config[name].lora_alpha
    want = peft_factors(theirs, name)
    assert set(combined.layers) == set(want)
    for t, (A, B) in combined.layers.items():
        assert A.shape == want[t][0].shape and B.shape == want[t][1].shape, t
        assert (A - want[t][0]).abs().max() <= TOL and (B - want[t][1]).abs().max() <= TOL, t
        assert theirs.base_model.model.get_submodule(t).scaling[name] == combined.scaling == 1.0
    theirs.set_adapter(name)
    with torch.no_grad():
        assert (combined_model(base, combined)(X) - theirs(X)).abs().max() <= TOL


def test_what_each_combination_computes(pair):
    """cat is both adapters on at once; linear is not (cross terms); svd is D's best low-rank approximation."""
    base, _, ours = pair
    w = [0.7, -0.3]
    layers = [lora_layers(ours[n])["fc2"] for n in ("t1", "t2")]
    target = w[0] * layers[0].delta_weight() + w[1] * layers[1].delta_weight()
    cat = combine([ours["t1"], ours["t2"]], w, "cat")
    assert cat.rank == 8 and (cat.delta_weight("fc2") - target).abs().max() <= TOL
    lin = combine([ours["t1"], ours["t2"]], w, "linear")
    assert (lin.delta_weight("fc2") - target).abs().max() > 0.01
    # rank(D) ≤ 8 on fc2, so rank 8 cuts nothing (fc1 allows 2: full_matrices=False keeps rank ≤ min(d_in, d_out))
    full = combine([ours["t1"], ours["t2"]], w, "svd", svd_rank=8, full_matrices=False)
    assert (full.delta_weight("fc2") - target).abs().max() <= TOL
    # plain (A, B, scaling) tuples, e.g. a library's numpy factors, give the same adapter as LoRA layers
    plain = [{t: (m.A.weight.detach().numpy().copy(), m.B.weight.detach().numpy().copy(), m.scaling)
              for t, m in lora_layers(ours[n]).items()} for n in ("t1", "t2")]
    again = combine(plain, w, "cat")
    assert all(torch.equal(again.layers[t][i], cat.layers[t][i]) for t in cat.layers for i in (0, 1))


def test_refusals_match_peft(pair):
    base, theirs, ours = pair
    with pytest.raises(ValueError, match="same r") as peft_error:
        theirs.add_weighted_adapter(["t1", "t3"], [1.0, 1.0], "bad_lin", combination_type="linear")
    assert "same r value" in str(peft_error.value)
    with pytest.raises(ValueError, match=r"same rank r \(got \[4, 2\]\)"):
        combine([ours["t1"], ours["t3"]], [1.0, 1.0], "linear")

    # svd rank 4 on fc1 (2 -> 16): PEFT fails while building the adapter
    with pytest.raises(RuntimeError):
        theirs.add_weighted_adapter(["t1", "t2"], [1.0, 1.0], "bad_svd", combination_type="svd")
    with pytest.raises(ValueError, match="above layer fc1's min\\(d_in, d_out\\) = 2"):
        combine([ours["t1"], ours["t2"]], [1.0, 1.0], "svd")
    # svd rank 4 on fc3 (16 -> 3): PEFT builds an adapter whose A and B do not fit, and fails when used
    theirs.add_weighted_adapter(["u1", "u2"], [1.0, 1.0], "bad_fc3", combination_type="svd")
    theirs.set_adapter("bad_fc3")
    with pytest.raises(RuntimeError), torch.no_grad():
        theirs(X)
    with pytest.raises(ValueError, match="above layer fc3's min\\(d_in, d_out\\) = 3"):
        combine([ours["u1"], ours["u2"]], [1.0, 1.0], "svd")

    with pytest.raises(RuntimeError, match="quantile"):
        theirs.add_weighted_adapter(["t1", "t2"], [1.0, 1.0], "bad_clamp", combination_type="svd", svd_rank=2,
                                    svd_clamp=1.5)
    with pytest.raises(ValueError, match="svd_clamp"):
        combine([ours["t1"], ours["t2"]], [1.0, 1.0], "svd", svd_rank=2, svd_clamp=1.5)
    with pytest.raises(ValueError, match="Invalid combination_type"):
        theirs.add_weighted_adapter(["t1", "t2"], [1.0, 1.0], "bad_kind", combination_type="sum")
    with pytest.raises(ValueError, match="combination_type must be one of"):
        combine([ours["t1"], ours["t2"]], [1.0, 1.0], "sum")
    with pytest.raises(ValueError, match="positive integer"):
        theirs.add_weighted_adapter(["t1", "t2"], [1.0, 1.0], "bad_rank", combination_type="svd", svd_rank=-1)
    with pytest.raises(ValueError, match="positive integer"):
        combine([ours["t1"], ours["t2"]], [1.0, 1.0], "svd", svd_rank=-1)
    with pytest.raises(ValueError, match="one weight per adapter"):  # PEFT zips silently; we do not
        combine([ours["t1"], ours["t2"]], [1.0], "cat")
    theirs.set_adapter("t1")


def test_rslora_sources_show_peft_quirk_as_a_number():
    base, theirs, ours = make_pair(use_rslora=True, names=("t1", "t3"))
    theirs.add_weighted_adapter(["t1", "t3"], [1.0, 1.0], "both", combination_type="cat")
    combined = combine([ours["t1"], ours["t3"]], [1.0, 1.0], "cat")
    assert combined.rank == 6 and combined.scaling == 1.0
    layer = theirs.base_model.model.fc2
    assert layer.scaling["both"] == pytest.approx(combined.peft_scaling) == pytest.approx(6 ** 0.5)
    intended = ours["t1"].fc2.delta_weight() + ours["t3"].fc2.delta_weight()
    assert (combined.delta_weight("fc2") - intended).abs().max() <= TOL                 # ours: the sum
    assert (layer.get_delta_weight("both") - 6 ** 0.5 * intended).abs().max() <= 1e-4   # PEFT: √6 × the sum


# ---------------------------------------------------------------- the library

CFG = RunConfig(data=DataConfig(n_samples=120), shift=ShiftConfig(kind="translate", offset=1.5),
                model=ModelConfig(hidden_size=16), lora=LoRAConfig(rank=2, alpha=4, target_modules=("fc1", "fc2")),
                train=TrainConfig(pretrain_steps=60, adapt_steps=40, lr=0.02))
G = 12


@pytest.fixture(scope="module")
def fb():
    return frozen_base(CFG, grid_size=G)


@pytest.fixture(scope="module")
def lib(fb):
    return build_library(fb)


def test_catalogue_is_the_run_shifts_and_the_own_adapter_is_the_train_tabs(fb, lib):
    assert lib.names == ("rotate", "translate", "scale", "dataset")
    for a in lib.adapters:
        _, want = make_tasks(CFG.data, a.shift)
        assert np.array_equal(a.task.X_train, want.X_train) and np.array_equal(a.task.y_test, want.y_test)
    assert (lib.adapter("rotate").shift.angle, lib.adapter("translate").shift.offset,
            lib.adapter("scale").shift.factor) == (CFG.shift.angle, 1.5, CFG.shift.factor)
    assert lib.adapter("dataset").shift.dataset == "circles"
    # the run's own shift (translate) gives the Train tab's adapter, to the bit
    snap = train(CFG, grid_size=G)
    own = lib.adapter("translate")
    for t in CFG.lora.target_modules:
        assert np.array_equal(own.factors[t][0], snap.model_state[f"{t}.A.weight"])
        assert np.array_equal(own.factors[t][1], snap.model_state[f"{t}.B.weight"])
    assert own.accuracy == snap.result.accuracy["lora_target"]
    # same settings, same starting A: only the task differs, and so do the trained adapters
    assert not np.array_equal(lib.adapter("rotate").factors["fc2"][0], own.factors["fc2"][0])


def test_other_dataset_differs_from_the_source_and_fits_the_outputs():
    moons_to_moons = RunConfig(shift=ShiftConfig(kind="dataset", dataset="moons"))
    assert other_dataset(moons_to_moons, 2) == "circles"
    three = RunConfig(data=DataConfig(dataset="circles", n_classes=3), shift=ShiftConfig(dataset="blobs"))
    assert other_dataset(three, 2) == "moons"   # blobs has 3 classes; a 2-output base cannot learn it
    assert other_dataset(three, 3) == "blobs"
    kinds = [k for k, _, _ in catalogue(three, 2)]
    assert kinds == ["rotate", "translate", "scale", "dataset"]


def test_switching_reads_stored_pictures_and_needs_no_training(fb, lib):
    points = grid(float(lib.ticks[-1]), len(lib.ticks))[1]
    for k, a in enumerate(lib.adapters, start=1):
        rebuilt = adapter_model(fb.base, a)  # from the stored A and B only
        assert np.array_equal(evaluate.grid_probs(rebuilt, points), a.probs)
        row = [evaluate.accuracy(rebuilt, t) for t in [lib.source] + [b.task for b in lib.adapters]]
        assert np.array_equal(lib.accuracy[k], row) and lib.accuracy[k, k] == a.accuracy
    assert np.array_equal(evaluate.grid_probs(fb.base, points), lib.base_probs)
    fig = switch_figure(lib)
    images = [tr["source"] for tr in fig["data"] if tr["type"] == "image"]
    assert images == [probability_image(p) for p in [lib.base_probs] + [a.probs for a in lib.adapters]]
    buttons = fig["layout"]["updatemenus"][0]["buttons"]
    assert len(buttons) == 1 + len(lib.adapters)
    for v, b in enumerate(buttons):  # each button shows exactly one image: its own
        shown = [tr for tr, on in zip(fig["data"], b["args"][0]["visible"]) if on]
        assert [tr["source"] for tr in shown if tr["type"] == "image"] == [images[v]]
        assert f"{100 * lib.accuracy[v, v]:.0f}%" in b["args"][1]["title.text"]


def test_mix_ends_are_the_single_adapters_and_the_mix_is_pefts_cat(fb, lib, tmp_path):
    mix = lib.mix
    assert (mix.first, mix.second, mix.weights) == ("rotate", "translate", MIX_WEIGHTS)
    first, second = lib.adapter("rotate"), lib.adapter("translate")
    np.testing.assert_allclose(mix.probs[-1], first.probs, atol=1e-6, rtol=0)   # w = 1
    np.testing.assert_allclose(mix.probs[0], second.probs, atol=1e-6, rtol=0)   # w = 0
    i, j = lib.names.index("rotate") + 1, lib.names.index("translate") + 1
    assert tuple(mix.accuracy[-1]) == (lib.accuracy[i, i], lib.accuracy[i, j])
    assert tuple(mix.accuracy[0]) == (lib.accuracy[j, i], lib.accuracy[j, j])
    # in between: PEFT's own add_weighted_adapter(cat) on the exported adapters gives the same pictures
    export_library(library_models(fb.base, lib), tmp_path)
    theirs = load_library(tmp_path, root_name="rotate")
    points = torch.from_numpy(grid(float(lib.ticks[-1]), len(lib.ticks))[1])
    for k in (3, 5):
        w = mix.weights[k]
        theirs.add_weighted_adapter(["rotate", "translate"], [w, 1 - w], f"mix{k}", combination_type="cat")
        theirs.set_adapter(f"mix{k}")
        with torch.no_grad():
            probs = torch.softmax(theirs(points), 1).numpy().reshape(mix.probs[k].shape)
        np.testing.assert_allclose(probs, mix.probs[k], atol=TOL, rtol=0)
    fig = mix_figure(lib)
    steps = fig["layout"]["sliders"][0]["steps"]
    assert [s["args"][0]["source"][0] for s in steps] == [probability_image(p) for p in mix.probs]
    assert all(f"{100 * mix.accuracy[k, 0]:.0f}%" in s["args"][1]["title.text"] for k, s in enumerate(steps))


def test_storage_is_what_the_tensors_hold(fb, lib):
    s = lib.storage
    assert s.base_bytes == sum(v.numpy().nbytes for v in fb.base.state_dict().values())
    assert s.adapter_bytes == tuple(sum(A.nbytes + B.nbytes for A, B in a.factors.values()) for a in lib.adapters)
    finetuned = METHODS["full_finetune"].attach(fb.base)  # one fully fine-tuned copy: every weight and bias
    assert s.finetuned_bytes == 4 * sum(v.numpy().nbytes for v in finetuned.state_dict().values())
    assert s.library_bytes == s.base_bytes + 4 * CFG.lora.rank * (2 + 16 + 16 + 16) * 4  # float32: 4 bytes


def test_same_settings_give_identical_numbers(fb, lib):
    again = build_library(frozen_base(CFG, grid_size=G))
    assert np.array_equal(again.accuracy, lib.accuracy) and np.array_equal(again.mix.accuracy, lib.mix.accuracy)
    assert again.storage == lib.storage
    for a, b in zip(again.adapters, lib.adapters):
        assert np.array_equal(a.probs, b.probs) and np.array_equal(a.loss_curve, b.loss_curve)
        assert all(np.array_equal(a.factors[t][i], b.factors[t][i]) for t in a.factors for i in (0, 1))
    assert all(np.array_equal(p, q) for p, q in zip(again.mix.probs, lib.mix.probs))
    with pytest.raises(ValueError, match="pair must name two different adapters"):
        build_library(fb, pair=("rotate", "rotate"))
    with pytest.raises(ValueError, match="at least two"):
        build_library(fb, kinds=("rotate",))


def test_results_are_read_only(lib):
    a = lib.adapters[0]
    arrays = [lib.accuracy, lib.base_probs, lib.ticks, a.probs, a.loss_curve, lib.mix.accuracy, *lib.mix.probs,
              *(m for pair in a.factors.values() for m in pair)]
    assert all(not arr.flags.writeable for arr in arrays)
    with pytest.raises(dataclasses.FrozenInstanceError):
        lib.seconds = 0.0


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_figures_are_plain_dicts_plotly_accepts(lib, lang):
    for name, fig in library_figures(lib, lang).items():
        assert isinstance(fig, dict) and fig["layout"]["template"] == "none" and fig["layout"]["height"] > 0
        assert not any(k.startswith(("xaxis1", "yaxis1")) for k in fig["layout"]), name
        go.Figure(fig)


# ---------------------------------------------------------------- export

def load_library(folder, root_name=None):
    """What a user does: rebuild the base, load the root adapter, then every other one by name."""
    base = BaseModel(**json.loads((folder / "base_model.json").read_text()))
    base.load_state_dict(load_file(folder / "base_model.safetensors"))
    entries = json.loads((folder / "library.json").read_text())["adapters"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kw = {} if root_name is None else {"adapter_name": root_name}
        model = PeftModel.from_pretrained(base, str(folder), **kw)
        for e in entries[1:]:
            model.load_adapter(str(folder / e["folder"]), adapter_name=e["name"])
    assert not [w for w in caught if "keys" in str(w.message)]  # no missing or unexpected adapter keys
    return model


def test_peft_loads_the_exported_library_and_reproduces_every_adapter(fb, lib, tmp_path):
    ours = library_models(fb.base, lib)
    export_library(ours, tmp_path, descriptions={a.name: a.task.name for a in lib.adapters})
    assert not (tmp_path / "rotate").exists() and (tmp_path / "adapter_config.json").is_file()
    assert all((tmp_path / n / "adapter_model.safetensors").is_file() for n in lib.names[1:])
    x = torch.from_numpy(np.concatenate([a.task.X_test for a in lib.adapters]))
    for root_name, names in ((None, ("default",) + lib.names[1:]), ("rotate", lib.names)):
        theirs = load_library(tmp_path, root_name)
        assert list(theirs.peft_config) == list(names)
        for name, model in zip(names, ours.values()):
            theirs.set_adapter(name)
            with torch.no_grad():
                assert (theirs(x) - model(x)).abs().max() <= TOL, name
    saved = load_file(tmp_path / "base_model.safetensors")
    assert all(torch.equal(saved[k], v) for k, v in fb.base.state_dict().items())


def test_library_zip_and_its_script_run_with_peft(fb, lib, tmp_path, capsys):
    ours = library_models(fb.base, lib)
    with zipfile.ZipFile(io.BytesIO(library_zip(ours, folder_name="my library"))) as z:
        names = set(z.namelist())
        z.extractall(tmp_path)
    assert {"my library/library.json", "my library/load_with_peft.py", "my library/scale/adapter_config.json",
            "my library/adapter_model.safetensors"} <= names
    assert not any(n.startswith("my library/rotate/") for n in names)  # the first adapter is the root
    folder = tmp_path / "my library"
    capsys.readouterr()
    runpy.run_path(str(folder / "load_with_peft.py"), run_name="__main__")  # in-process: PEFT is imported already
    out = capsys.readouterr().out
    printed = dict((m.group(1), json.loads(m.group(3)))
                   for m in re.finditer(r"^(\w+) output for (\[.*\]) -> (\[.*\])$", out, re.M))
    assert list(printed) == list(lib.names)
    x = torch.linspace(-1, 1, 2).unsqueeze(0)
    with torch.no_grad():
        for name, model in ours.items():
            np.testing.assert_allclose(printed[name], model(x)[0].numpy(), atol=1e-6)


def test_export_refuses_what_peft_cannot_load_as_one_library(fb, lib, tmp_path):
    ours = library_models(fb.base, lib)
    with pytest.raises(ValueError, match="not 'default'"):
        export_library({"default": ours["rotate"]}, tmp_path)
    with pytest.raises(ValueError, match="letters, digits"):
        export_library({"rot.ate": ours["rotate"]}, tmp_path)
    other = add_lora(BaseModel(2, 16, 2, 2), CFG.lora.target_modules, 2, 4.0,
                     generator=torch.Generator().manual_seed(1))
    with pytest.raises(ValueError, match="another base"):
        export_library({"rotate": ours["rotate"], "other": other}, tmp_path)
