"""Export to PEFT's saved format, checked by loading the files with PEFT itself."""
import io
import json
import math
import re
import subprocess
import sys
import warnings
import zipfile

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from lora_demo.config import LoRAConfig
from lora_demo.export import adapter_zip, export_adapter, model_from_state, peft_loading_code
from lora_demo.methods import count_parameters
from lora_demo.methods.lora import add_lora, lora_layers, lora_parameters
from lora_demo.model import BaseModel

peft = pytest.importorskip("peft")
from peft import LoraConfig, PeftModel  # noqa: E402

# (hidden_layers, target_modules); hidden_layers=1 is the seed's two-layer model
CASES = [(2, ("fc1",)), (2, ("fc1", "fc2", "fc3")), (1, ("fc1",))]
FILES = {"adapter_config.json", "adapter_model.safetensors", "base_model.safetensors",
         "base_model.json", "load_with_peft.py"}


def adam_steps(model, params, X, y, steps, lr):
    opt = torch.optim.Adam(params, lr=lr)
    for _ in range(steps):
        loss = F.cross_entropy(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()


def trained_lora_model(hidden_layers=2, targets=("fc1",), rank=4, alpha=8.0, use_rslora=False,
                       init="peft", seed=0):
    """Pretrain a small BaseModel, add LoRA, train A and B on flipped labels; return it and the base state."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(64, 2, generator=g)
    y = (X[:, 0] * X[:, 1] > 0).long()
    model = BaseModel(2, 16, 2, hidden_layers, generator=g)
    adam_steps(model, model.parameters(), X, y, 20, 0.01)
    base_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    add_lora(model, targets, rank, alpha, use_rslora, init, generator=g)
    adam_steps(model, lora_parameters(model), X, 1 - y, 20, 0.05)
    assert all(m.B.weight.abs().max() > 0 for m in lora_layers(model).values())
    return model, base_state


def load_with_peft(folder):
    """What a user does: rebuild the plain base from the exported files, then let PEFT add the adapter."""
    base = BaseModel(**json.loads((folder / "base_model.json").read_text()))
    base.load_state_dict(load_file(folder / "base_model.safetensors"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = PeftModel.from_pretrained(base, str(folder), is_trainable=True)
    assert not [w for w in caught if "keys" in str(w.message)]  # no missing/unexpected adapter keys
    return model


@pytest.mark.parametrize("use_rslora", [False, True])
@pytest.mark.parametrize("hidden_layers,targets", CASES)
def test_peft_loads_the_export_and_computes_the_same_outputs(tmp_path, hidden_layers, targets, use_rslora):
    ours, _ = trained_lora_model(hidden_layers, targets, rank=4, alpha=8.0, use_rslora=use_rslora)
    paths = export_adapter(ours, tmp_path)
    assert set(paths) == FILES and all(p.parent == tmp_path and p.is_file() for p in paths.values())

    theirs = load_with_peft(tmp_path)
    x = 3 * torch.randn(500, 2, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        torch.testing.assert_close(theirs(x), ours(x), atol=1e-6, rtol=0)
    expected = 8.0 / math.sqrt(4) if use_rslora else 8.0 / 4  # 4.0 vs 2.0: a lost flag would show
    for name in targets:
        assert theirs.base_model.model.get_submodule(name).scaling["default"] == expected
    trainable, total = theirs.get_nb_trainable_parameters()
    assert (trainable, total) == (count_parameters(ours).trainable, count_parameters(ours).total)


@pytest.mark.parametrize("hidden_layers,targets", CASES)
def test_tensors_have_peft_keys_shapes_and_the_untouched_base(tmp_path, hidden_layers, targets):
    ours, base_state = trained_lora_model(hidden_layers, targets, rank=3)
    export_adapter(ours, tmp_path)
    adapter = load_file(tmp_path / "adapter_model.safetensors")
    assert set(adapter) == {f"base_model.model.{t}.lora_{ab}.weight" for t in targets for ab in "AB"}
    for t in targets:
        layer = ours.get_submodule(t)
        a, b = adapter[f"base_model.model.{t}.lora_A.weight"], adapter[f"base_model.model.{t}.lora_B.weight"]
        assert a.shape == (3, layer.in_features) and b.shape == (layer.out_features, 3)
        assert torch.equal(a, layer.A.weight) and torch.equal(b, layer.B.weight)
    base = load_file(tmp_path / "base_model.safetensors")
    assert set(base) == set(BaseModel(2, 16, 2, hidden_layers).state_dict())  # fc1.weight, fc1.bias, …
    assert all(torch.equal(base[k], v) for k, v in base_state.items())      # bit-identical to pretraining
    assert json.loads((tmp_path / "base_model.json").read_text()) == {
        "input_size": 2, "hidden_size": 16, "output_size": 2, "hidden_layers": hidden_layers}


@pytest.mark.parametrize("init,peft_init", [("peft", True), ("seed", True), ("gaussian", "gaussian")])
def test_adapter_config_fields(tmp_path, init, peft_init):
    ours, _ = trained_lora_model(2, ("fc3", "fc1"), rank=2, alpha=4.0, init=init)
    export_adapter(ours, tmp_path, init=init)
    cfg = json.loads((tmp_path / "adapter_config.json").read_text())
    assert cfg["lora_alpha"] == 4 and isinstance(cfg["lora_alpha"], int)  # as PEFT writes it
    assert {k: cfg[k] for k in ("peft_type", "r", "target_modules", "use_rslora", "bias",
                                "lora_dropout", "init_lora_weights", "task_type", "inference_mode",
                                "fan_in_fan_out", "modules_to_save")} == {
        "peft_type": "LORA", "r": 2, "target_modules": ["fc1", "fc3"], "use_rslora": False,
        "bias": "none", "lora_dropout": 0.0, "init_lora_weights": peft_init, "task_type": None,
        "inference_mode": True, "fan_in_fan_out": False, "modules_to_save": None}
    loaded = LoraConfig.from_pretrained(str(tmp_path))  # PEFT accepts every key we wrote
    assert (loaded.r, loaded.lora_alpha, set(loaded.target_modules)) == (2, 4, {"fc1", "fc3"})


def test_fractional_alpha_and_rslora_round_trip(tmp_path):
    ours, _ = trained_lora_model(2, ("fc2",), rank=9, alpha=2.5, use_rslora=True)
    export_adapter(ours, tmp_path)
    cfg = json.loads((tmp_path / "adapter_config.json").read_text())
    assert (cfg["lora_alpha"], cfg["use_rslora"]) == (2.5, True)
    theirs = load_with_peft(tmp_path)
    assert theirs.base_model.model.fc2.scaling["default"] == pytest.approx(2.5 / 3) == ours.fc2.scaling
    x = torch.randn(100, 2)
    with torch.no_grad():
        torch.testing.assert_close(theirs(x), ours(x), atol=1e-6, rtol=0)


@pytest.mark.parametrize("hidden_layers,targets", CASES)
def test_generated_script_runs_and_matches_our_model(tmp_path, hidden_layers, targets):
    ours, _ = trained_lora_model(hidden_layers, targets)
    folder = tmp_path / "my adapter"  # a space, and run from elsewhere: the script finds its own folder
    export_adapter(ours, folder)
    done = subprocess.run([sys.executable, str(folder / "load_with_peft.py")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "trainable params" in done.stdout
    assert count_parameters(ours).peft_line() in done.stdout  # PEFT's count equals the app's
    printed = re.search(r"output for (\[.*\]) -> (\[.*\])", done.stdout)
    x = torch.tensor([json.loads(printed.group(1))])
    with torch.no_grad():
        np.testing.assert_allclose(json.loads(printed.group(2)), ours(x)[0].numpy(), atol=1e-6)


def test_shown_peft_code_runs_as_written(tmp_path, monkeypatch):
    ours, _ = trained_lora_model(2, ("fc1", "fc2"))
    export_adapter(ours, tmp_path / "lora_adapter")
    code = peft_loading_code("lora_adapter", ["fc2", "fc1"])
    assert "lora_A" in code and "lora_alpha" in code and '["fc1", "fc2"]' in code
    monkeypatch.chdir(tmp_path)
    scope = {"BaseModel": BaseModel}
    exec(compile(code, "peft_loading_code", "exec"), scope)
    merged = scope["merged"]
    assert type(merged) is BaseModel and not lora_layers(merged)
    x = torch.randn(50, 2)
    with torch.no_grad():  # merging rounds: ~1e-6 in float32, as the contract says
        torch.testing.assert_close(merged(x), ours(x), atol=1e-5, rtol=0)


def test_export_zip_holds_the_folder(tmp_path):
    ours, _ = trained_lora_model()
    data = adapter_zip(ours, folder_name="moons_lora")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert set(z.namelist()) == {f"moons_lora/{f}" for f in FILES}
        z.extractall(tmp_path)
    theirs = load_with_peft(tmp_path / "moons_lora")
    x = torch.randn(50, 2)
    with torch.no_grad():
        torch.testing.assert_close(theirs(x), ours(x), atol=1e-6, rtol=0)
    # the folder export writes the same bytes as the zip holds
    export_adapter(ours, tmp_path / "folder")
    for f in FILES:
        assert (tmp_path / "folder" / f).read_bytes() == (tmp_path / "moons_lora" / f).read_bytes(), f


def test_model_from_state_rebuilds_a_model_from_numpy_copies():
    ours, _ = trained_lora_model(2, ("fc1", "fc3"), rank=3, alpha=6.0, use_rslora=True)
    state = {k: v.detach().numpy().copy() for k, v in ours.state_dict().items()}
    for a in state.values():
        a.setflags(write=False)  # as a run's snapshots keep them
    lora = LoRAConfig(rank=3, alpha=6.0, use_rslora=True, target_modules=("fc1", "fc3"))
    rebuilt = model_from_state(state, lora)
    x = torch.randn(50, 2)
    with torch.no_grad():
        assert torch.equal(rebuilt(x), ours(x))
    with pytest.raises(RuntimeError):  # settings that do not fit the state
        model_from_state(state, LoRAConfig(rank=2, alpha=6.0, target_modules=("fc1", "fc3")))


def test_refuses_what_peft_cannot_represent(tmp_path):
    with pytest.raises(ValueError, match="no LoRA"):
        export_adapter(BaseModel(2, 8, 2), tmp_path)
    mixed = BaseModel(2, 8, 2, 2)
    add_lora(mixed, ["fc1"], 2, 4.0)
    add_lora(mixed, ["fc2"], 3, 4.0)
    with pytest.raises(ValueError, match="share one rank"):
        export_adapter(mixed, tmp_path)
    ours, _ = trained_lora_model()
    ours.fc1.merge()
    with pytest.raises(ValueError, match="unmerge"):
        export_adapter(ours, tmp_path)


def test_app_download_loads_in_peft_and_matches_the_run(tmp_path):
    """The zip the app offers after a run, loaded by PEFT, gives the outputs of the run's own model."""
    import zipfile

    import numpy as np
    import peft as peft_lib
    from safetensors.torch import load_file

    from lora_demo.config import DataConfig, RunConfig, TrainConfig
    from lora_demo.model import BaseModel
    from lora_demo.engine import train

    cfg = RunConfig(data=DataConfig(n_samples=80), train=TrainConfig(pretrain_steps=30, adapt_steps=30))
    snap = train(cfg)
    ours = model_from_state(snap.model_state, cfg.lora)
    with zipfile.ZipFile(io.BytesIO(adapter_zip(ours, init=cfg.lora.init))) as z:
        z.extractall(tmp_path)
    folder = tmp_path / "lora_adapter"
    args = json.loads((folder / "base_model.json").read_text())
    base = BaseModel(**args)
    base.load_state_dict(load_file(folder / "base_model.safetensors"))
    theirs = peft_lib.PeftModel.from_pretrained(base, folder)
    x = torch.from_numpy(snap.target.X_test)
    with torch.no_grad():
        torch.testing.assert_close(theirs(x), ours(x), atol=1e-6, rtol=1e-6)
        probs = torch.softmax(theirs(x), 1).numpy()
    acc = float((probs.argmax(1) == snap.target.y_test).mean())
    assert abs(acc - snap.result.accuracy["lora_target"]) < 1e-6
    assert np.isfinite(probs).all()
