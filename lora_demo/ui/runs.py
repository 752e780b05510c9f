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


def settings_handler(body, doc: str):
    """An event handler taking every setting by name (as the API documents them) plus the language, that
    hands (values, request) to `body`, an async generator of output tuples. Written once, so that every
    endpoint takes the same parameters in the same order (config.FLAT_FIELDS)."""
    async def handler(dataset, n_samples, noise, n_classes, test_fraction, seed, shift_kind, angle, offset, factor,
                      shift_dataset, hidden_size, hidden_layers, rank, alpha, use_rslora, target_modules, init, lr,
                      pretrain_steps, adapt_steps, language="en", request: gr.Request = None):
        values = {k: v for k, v in locals().items() if k not in ("request", "body", "doc")}
        async for out in body(values, request):
            yield out
    handler.__doc__ = doc
    return handler


# the settings of every event whose handler is a job_body: raw inputs (the handler checks each), values sent as
# job_body prepared them, a new click replaces the running job (the scheduler stops it), progress on the status
JOB_EVENT = dict(concurrency_limit=None, show_progress="minimal", preprocess=False, postprocess=False,
                 trigger_mode="multiple")


def job_body(services, kind: str, names: tuple, status: str, blank, predict, budget_s: float, seconds: float,
             components: dict):
    """The body of a handler that validates the settings, refuses work predicted to exceed budget_s, and relays
    the job `kind` (blank(lang) gives the outputs' values before the first update).

    components: the output components by name. The body sends their values postprocessed, so its events
    must be registered with `postprocess=False` (JOB_EVENT has the settings every job event shares)."""
    from ..config import flat_from_config
    from .relay import prepared, relay

    prepare = prepared(components)

    async def body(values, request):
        cfg, lang = checked(values)
        predicted = predict(cfg)
        if predicted > budget_s:
            raise gr.Error(t(lang, "too_costly", seconds=predicted, most=budget_s), title=t(lang, "err_invalid"),
                           print_exception=False)
        async for out in relay(services, request, kind, flat_from_config(cfg), lang, names, blank(lang), seconds,
                               predicted, status=status, prepare=prepare):
            yield out
    return body
