"""Every way to adapt a frozen base, behind one interface (methods.base.Method).

Adding a method is one new module and one line in METHODS. Imports torch, not gradio.
"""
from .adapter import AdapterMethod
from .base import Method, NotMergeable, ParamCount, count_parameters, trainable_parameters
from .dora import DoRAMethod
from .full_finetune import FullFineTune
from .lora import LoRAMethod
from .loraplus import LoRAPlusMethod
from .svd_init import DecomposedInitMethod

METHODS: dict[str, Method] = {
    "full_finetune": FullFineTune(),
    "adapter": AdapterMethod(),
    "lora": LoRAMethod(),
    "rslora": LoRAMethod("rslora", rslora=True),
    "dora": DoRAMethod(),
    "pissa": DecomposedInitMethod("pissa"),
    "olora": DecomposedInitMethod("olora"),
    "loraplus": LoRAPlusMethod(),
}

__all__ = ["METHODS", "Method", "NotMergeable", "ParamCount", "count_parameters", "trainable_parameters"]
