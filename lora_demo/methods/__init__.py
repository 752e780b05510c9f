"""Every way to adapt a frozen base, behind one interface (methods.base.Method).

Adding a method is one new module and one line in METHODS. Imports torch, not gradio.
"""
from .adapter import AdapterMethod
from .base import Method, NotMergeable, ParamCount, count_parameters, trainable_parameters
from .full_finetune import FullFineTune
from .lora import LoRAMethod

METHODS: dict[str, Method] = {
    "full_finetune": FullFineTune(),
    "adapter": AdapterMethod(),
    "lora": LoRAMethod(),
    "rslora": LoRAMethod("rslora", rslora=True),
}

__all__ = ["METHODS", "Method", "NotMergeable", "ParamCount", "count_parameters", "trainable_parameters"]
