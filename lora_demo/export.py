"""Save a trained LoRA model in Hugging Face PEFT's format, so PEFT itself can load it.

A folder written by `export_adapter` holds:

- adapter_config.json        PEFT's LoraConfig (r, lora_alpha, target_modules, …)
- adapter_model.safetensors  base_model.model.<layer>.lora_A.weight (r, d_in) and .lora_B.weight (d_out, r)
- base_model.safetensors     the frozen base weights, with plain BaseModel keys (fc1.weight, fc1.bias, …)
- base_model.json            BaseModel's constructor arguments, to rebuild it
- load_with_peft.py          a runnable script: rebuild the base, PeftModel.from_pretrained, print

PEFT's lora_A, lora_B, r and lora_alpha are our A, B, rank and alpha. PEFT drops its adapter
name ("default") from the keys when it saves and adds it back when it loads, so the file
has none. Imports torch and safetensors, not peft or gradio.
"""
from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors.torch import save

from .config import LoRAConfig
from .methods.lora import add_lora, lora_layers
from .model import BaseModel

BASE_ARGS = ("input_size", "hidden_size", "output_size", "hidden_layers")

# Our A init -> PEFT's init_lora_weights. The seed's kaiming(a=0.01) has no PEFT name; like
# PEFT's default it is a kaiming-uniform A with B = 0, so it maps to True. (A loaded adapter
# has its trained A and B, so this only tells a reader how training started.)
PEFT_INIT = {"peft": True, "seed": True, "gaussian": "gaussian"}

LOAD_SCRIPT = '''\
"""Load this LoRA adapter with Hugging Face PEFT: pip install torch safetensors peft"""
import json
from pathlib import Path

import torch
from peft import PeftModel
from safetensors.torch import load_file
from torch import nn

folder = Path(__file__).resolve().parent


class BaseModel(nn.Module):
    """fc1 -> ReLU -> ... -> fcN: the layer names that target_modules refers to."""

    def __init__(self, input_size, hidden_size, output_size, hidden_layers=1):
        super().__init__()
        sizes = [input_size] + [hidden_size] * hidden_layers + [output_size]
        self.layers = [f"fc{i + 1}" for i in range(len(sizes) - 1)]
        for name, d_in, d_out in zip(self.layers, sizes, sizes[1:]):
            setattr(self, name, nn.Linear(d_in, d_out))

    def forward(self, x):
        for name in self.layers[:-1]:
            x = torch.relu(getattr(self, name)(x))
        return getattr(self, self.layers[-1])(x)


args = json.loads((folder / "base_model.json").read_text())
base = BaseModel(**args)
base.load_state_dict(load_file(folder / "base_model.safetensors"))
# PEFT's lora_A / lora_B / r / lora_alpha are the app's A / B / rank / alpha.
# is_trainable=True only so the line below counts A and B as trainable, as the app does.
model = PeftModel.from_pretrained(base, str(folder), is_trainable=True)
model.print_trainable_parameters()
x = torch.linspace(-1, 1, args["input_size"]).unsqueeze(0)
with torch.no_grad():
    print("output for", x[0].tolist(), "->", model(x)[0].tolist())
'''


def _number(x: float) -> int | float:
    """4.0 -> 4, so the JSON reads as PEFT writes it; 2.5 stays 2.5."""
    return int(x) if float(x).is_integer() else float(x)


def base_config_of(model: torch.nn.Module) -> dict:
    """BaseModel's constructor arguments, read off the layer shapes fc1 … fcN."""
    n = model.n_layers
    first, last = model.fc1, getattr(model, f"fc{n}")
    return {"input_size": first.in_features, "hidden_size": first.out_features,
            "output_size": last.out_features, "hidden_layers": n - 1}


def adapter_config(model: torch.nn.Module, init: str | None = None) -> dict:
    """adapter_config.json as PEFT's LoraConfig.to_dict() would write it for this model."""
    layers = lora_layers(model)
    if not layers:
        raise ValueError("the model has no LoRA layers to export")
    first = next(iter(layers.values()))
    if any((m.rank, m.alpha, m.use_rslora) != (first.rank, first.alpha, first.use_rslora)
           for m in layers.values()):
        raise ValueError("every adapted layer must share one rank, alpha and use_rslora")
    init = init or getattr(first, "init", "peft")
    return {
        "peft_type": "LORA",
        "task_type": None,
        "inference_mode": True,
        "base_model_name_or_path": None,
        "revision": None,
        "r": first.rank,                       # our rank
        "lora_alpha": _number(first.alpha),    # our alpha
        "use_rslora": first.use_rslora,        # scaling alpha/sqrt(r) instead of alpha/r
        "target_modules": sorted(layers),      # explicit: PEFT cannot guess them for a custom model
        "exclude_modules": None,
        "lora_dropout": 0.0,
        "fan_in_fan_out": False,
        "bias": "none",
        "lora_bias": False,
        "use_dora": False,
        "init_lora_weights": PEFT_INIT[init],
        "modules_to_save": None,
        "layers_to_transform": None,
        "layers_pattern": None,
        "rank_pattern": {},
        "alpha_pattern": {},
    }


def adapter_tensors(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A and B under PEFT's saved key names: base_model.model.<layer>.lora_A.weight, .lora_B.weight."""
    out = {}
    for name, m in lora_layers(model).items():
        out[f"base_model.model.{name}.lora_A.weight"] = m.A.weight.detach().clone().contiguous()
        out[f"base_model.model.{name}.lora_B.weight"] = m.B.weight.detach().clone().contiguous()
    return out


def base_tensors(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The frozen base weights with plain BaseModel keys: fc1.original_layer.weight -> fc1.weight."""
    layers = lora_layers(model)
    if any(m.merged for m in layers.values()):
        raise ValueError("unmerge the adapters before export: merged weights hold W + ΔW, not W")
    adapter_keys = {f"{name}.{ab}.weight" for name in layers for ab in "AB"}
    return {key.replace(".original_layer.", "."): value.detach().clone().contiguous()
            for key, value in model.state_dict().items() if key not in adapter_keys}


def adapter_files(model: torch.nn.Module, *, base_config: dict | None = None,
                  init: str | None = None) -> dict[str, bytes]:
    """file name -> contents of a PEFT-loadable adapter plus the base it belongs to, built in memory.

    The trained adapter is written as trained: an adapter_strength() setting is not baked in.
    init names how A started ("peft", "seed", "gaussian"); it only fills init_lora_weights."""
    base_config = dict(base_config) if base_config is not None else base_config_of(model)
    if set(base_config) != set(BASE_ARGS):
        raise ValueError(f"base_config needs exactly the keys {', '.join(BASE_ARGS)}")
    return {
        "adapter_config.json": (json.dumps(adapter_config(model, init), indent=2, sort_keys=True) + "\n").encode(),
        "adapter_model.safetensors": save(adapter_tensors(model), metadata={"format": "pt"}),
        "base_model.safetensors": save(base_tensors(model), metadata={"format": "pt"}),
        "base_model.json": (json.dumps(base_config, indent=2) + "\n").encode(),
        "load_with_peft.py": LOAD_SCRIPT.encode(),
    }


def export_adapter(model: torch.nn.Module, folder: str | Path, *, base_config: dict | None = None,
                   init: str | None = None) -> dict[str, Path]:
    """Write adapter_files into folder; return name -> path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, data in adapter_files(model, base_config=base_config, init=init).items():
        paths[name] = folder / name
        paths[name].write_bytes(data)
    return paths


def zip_bytes(files: dict[str, bytes], folder_name: str) -> bytes:
    """A zip archive (in memory) of files under folder_name/."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(f"{folder_name}/{name}", data)
    return buf.getvalue()


def adapter_zip(model: torch.nn.Module, *, folder_name: str = "lora_adapter", base_config: dict | None = None,
                init: str | None = None) -> bytes:
    """The export as one zip (entries under folder_name/), in memory: what the app offers for download."""
    return zip_bytes(adapter_files(model, base_config=base_config, init=init), folder_name)


def peft_loading_code(folder_name: str, target_modules) -> str:
    """The few lines of PEFT code the app shows next to the download."""
    targets = json.dumps(sorted(target_modules, key=lambda t: (len(t), t)))
    return f'''\
# PEFT's lora_A, lora_B, r and lora_alpha are this app's A, B, rank and alpha.
import json
from peft import PeftModel
from safetensors.torch import load_file

args = json.load(open("{folder_name}/base_model.json"))
base = BaseModel(**args)  # fc1 … fcN with ReLU between (defined in {folder_name}/load_with_peft.py)
base.load_state_dict(load_file("{folder_name}/base_model.safetensors"))

# reads adapter_config.json (target_modules={targets}) and adapter_model.safetensors
model = PeftModel.from_pretrained(base, "{folder_name}", is_trainable=True)  # default: A, B frozen
model.print_trainable_parameters()  # counts as the app does: trainable = A and B
merged = model.merge_and_unload()   # W ← W + scaling · B @ A in place: a plain BaseModel again
'''


def model_from_state(state: Mapping, lora: LoRAConfig) -> torch.nn.Module:
    """Rebuild a trained LoRA model from its state_dict (tensors or numpy arrays) and LoRA settings.

    Layer sizes come from the weight shapes; a state that does not fit the settings is an error.
    """
    tensors = {k: torch.tensor(v) for k, v in state.items()}
    n = sum(1 for k in tensors if k.startswith("fc") and k.endswith(".bias"))
    weight = lambda i: tensors.get(f"fc{i}.original_layer.weight", tensors.get(f"fc{i}.weight"))
    model = BaseModel(weight(1).shape[1], weight(1).shape[0], weight(n).shape[0], n - 1)
    add_lora(model, lora.target_modules, lora.rank, lora.alpha, lora.use_rslora, lora.init)
    model.load_state_dict(tensors)  # strict: missing, extra or misshapen entries raise
    return model
