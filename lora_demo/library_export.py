"""Save an adapter library (several LoRA adapters on one frozen base) in PEFT's multi-adapter layout.

The folder is what PEFT's own `save_pretrained` writes for a model whose first adapter is "default":

- adapter_config.json, adapter_model.safetensors   the FIRST adapter, at the root
- <name>/adapter_config.json, <name>/adapter_model.safetensors   every other adapter, one subfolder each
- base_model.safetensors, base_model.json          the one frozen base all adapters share
- library.json                                     the adapters in order: name, folder, description
- load_with_peft.py                                a runnable script that loads them all with PEFT

Why the first adapter sits at the root: `PeftModel.from_pretrained(base, folder)` reads the root, so
the folder loads as PEFT users expect, and `model.load_adapter(folder / name, adapter_name=name)`
adds the rest. PEFT calls the root adapter "default" unless from_pretrained gets adapter_name=…;
the script passes the library's name, so every adapter keeps its own name.

The files of each adapter are export.py's (same config fields, same key names). Imports torch and
safetensors, not peft or gradio.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors.torch import save

from .export import (BASE_ARGS, LOAD_SCRIPT, adapter_config, adapter_tensors, base_config_of, base_tensors,
                     zip_bytes)

NAME = re.compile(r"^[A-Za-z0-9_-]+$")  # a folder name and a PEFT adapter name (PEFT forbids ".")
ROOT_NAME = "default"                    # what PEFT calls the root adapter when not told otherwise

# the BaseModel class of the single-adapter script, so both scripts rebuild the base the same way
_BASE_CLASS = LOAD_SCRIPT[LOAD_SCRIPT.index("class BaseModel"):LOAD_SCRIPT.index("args = ")]

LIBRARY_SCRIPT = '''\
"""Load this LoRA adapter library with Hugging Face PEFT: pip install torch safetensors peft"""
import json
from pathlib import Path

import torch
from peft import PeftModel
from safetensors.torch import load_file
from torch import nn

folder = Path(__file__).resolve().parent


''' + _BASE_CLASS + '''\
args = json.loads((folder / "base_model.json").read_text())
library = json.loads((folder / "library.json").read_text())
base = BaseModel(**args)
base.load_state_dict(load_file(folder / "base_model.safetensors"))
# PEFT's lora_A / lora_B / r / lora_alpha are the app's A / B / rank / alpha.
# The folder itself holds the first adapter; without adapter_name PEFT would call it "default".
first, *others = library["adapters"]
model = PeftModel.from_pretrained(base, str(folder), adapter_name=first["name"])
for adapter in others:
    model.load_adapter(str(folder / adapter["folder"]), adapter_name=adapter["name"])
x = torch.linspace(-1, 1, args["input_size"]).unsqueeze(0)
with torch.no_grad():
    for adapter in library["adapters"]:
        model.set_adapter(adapter["name"])  # one adapter on at a time; the base never changes
        print(adapter["name"], "output for", x[0].tolist(), "->", model(x)[0].tolist())
'''


def _check(models: Mapping[str, torch.nn.Module]) -> dict[str, torch.Tensor]:
    """The shared base's tensors, after checking names and that every adapter sits on that same base."""
    if not models:
        raise ValueError("the library has no adapters to export")
    for name in models:
        if not isinstance(name, str) or not NAME.match(name) or name == ROOT_NAME:
            raise ValueError(f"adapter names must be letters, digits, _ or - (a folder and a PEFT adapter name) "
                             f"and not {ROOT_NAME!r}, PEFT's name for the root adapter; got {name!r}")
    bases = [base_tensors(m) for m in models.values()]
    first = bases[0]
    for name, other in zip(models, bases):
        if set(other) != set(first) or not all(torch.equal(other[k], first[k]) for k in first):
            raise ValueError(f"adapter {name!r} sits on another base: a library shares one frozen base")
    return first


def library_files(models: Mapping[str, torch.nn.Module], *, base_config: dict | None = None,
                  init: str | None = None, descriptions: Mapping[str, str] | None = None) -> dict[str, bytes]:
    """Relative file name -> contents of the library folder, built in memory.

    models maps adapter name -> LoRA model, in library order (the first goes to the root);
    descriptions (name -> text, e.g. the task) go into library.json for a reader; init fills PEFT's
    init_lora_weights as in export.py."""
    base = _check(models)
    first_model = next(iter(models.values()))
    base_config = dict(base_config) if base_config is not None else base_config_of(first_model)
    if set(base_config) != set(BASE_ARGS):
        raise ValueError(f"base_config needs exactly the keys {', '.join(BASE_ARGS)}")
    descriptions = descriptions or {}
    files, entries = {}, []
    for i, (name, model) in enumerate(models.items()):
        sub = "" if i == 0 else f"{name}/"
        config = adapter_config(model, init)
        files[f"{sub}adapter_config.json"] = (json.dumps(config, indent=2, sort_keys=True) + "\n").encode()
        files[f"{sub}adapter_model.safetensors"] = save(adapter_tensors(model), metadata={"format": "pt"})
        entries.append({"name": name, "folder": sub.rstrip("/") or ".", "description": descriptions.get(name, ""),
                        "peft_name_from_root": ROOT_NAME if i == 0 else name})
    files["base_model.safetensors"] = save(base, metadata={"format": "pt"})
    files["base_model.json"] = (json.dumps(base_config, indent=2) + "\n").encode()
    files["library.json"] = (json.dumps({"adapters": entries}, indent=2, ensure_ascii=False) + "\n").encode()
    files["load_with_peft.py"] = LIBRARY_SCRIPT.encode()
    return files


def export_library(models: Mapping[str, torch.nn.Module], folder: str | Path, **kwargs) -> dict[str, Path]:
    """Write library_files(models, **kwargs) into folder; return relative file name -> path."""
    folder = Path(folder)
    paths = {}
    for rel, data in library_files(models, **kwargs).items():
        paths[rel] = folder / rel
        paths[rel].parent.mkdir(parents=True, exist_ok=True)
        paths[rel].write_bytes(data)
    return paths


def library_zip(models: Mapping[str, torch.nn.Module], *, folder_name: str = "lora_library", **kwargs) -> bytes:
    """The library as one zip (entries under folder_name/), in memory: what the app offers for download."""
    return zip_bytes(library_files(models, **kwargs), folder_name)
