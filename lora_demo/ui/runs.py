"""Checking a handler's raw arguments: the validated settings and language, or a titled gr.Error
naming the setting. Handlers take raw values (preprocess=False), so every client meets this check."""
from __future__ import annotations

import logging

import gradio as gr

from ..config import ConfigError, RunConfig, config_from_flat, short_repr
from ..text import LANGUAGES, config_error_text, t

log = logging.getLogger("lora_demo")


def checked(values: dict) -> tuple[RunConfig, str]:
    """The validated config and language from a handler's raw arguments, or a gr.Error naming the setting."""
    values = dict(values)
    lang = values.pop("language", "en")
    if not isinstance(lang, str) or lang not in LANGUAGES:
        raise gr.Error(f"language must be one of {', '.join(LANGUAGES)}; got {short_repr(lang)}",
                       title="Invalid setting", print_exception=False)
    try:
        return config_from_flat(values), lang
    except ConfigError as e:
        raise gr.Error(config_error_text(e, lang), title=t(lang, "err_invalid"), print_exception=False) from None
