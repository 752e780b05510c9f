"""The Train tab: presets, the status line, three boundaries, the loss and parameter charts, the results,
the PEFT download and the replay; and the streaming /train handler, which relays a worker's job."""
from __future__ import annotations

import gradio as gr

from .. import cost
from ..config import FLAT_FIELDS, flat_from_config
from ..presets import PRESETS
from ..text import t
from .page import DEFAULTS, Page
from .relay import Services, relay
from .runs import checked

RUN_SECONDS = 30.0     # one request's hard cap (the worker is killed at this plus a little)
BUDGET_S = 15.0        # refused up front when lora_demo.cost predicts more seconds than this
# the API's outputs in this order; metrics stay last (the README unpacks `*_, metrics = client.predict(...)`)
NAMES = ("status", "base_source", "base_target", "lora_target", "loss", "params", "results", "download", "code",
         "replay", "metrics")
SEEDS_NAMES = ("seeds_status", "seeds_plot", "seeds_table")


def make_handler(services: Services):
    async def train_stream(dataset, n_samples, noise, n_classes, test_fraction, seed, shift_kind, angle, offset,
                           factor, shift_dataset, hidden_size, hidden_layers, rank, alpha, use_rslora, target_modules,
                           init, lr, pretrain_steps, adapt_steps, language="en", request: gr.Request = None):
        """Train a base model, then LoRA; stream status, three boundaries, loss, parameters, results, metrics."""
        values = {k: v for k, v in locals().items() if k in FLAT_FIELDS or k == "language"}
        cfg, lang = checked(values)
        predicted = cost.run_seconds(cfg)
        if predicted > BUDGET_S:
            raise gr.Error(t(lang, "too_costly", seconds=predicted, most=BUDGET_S), title=t(lang, "err_invalid"),
                           print_exception=False)
        blank = {"status": t(lang, "starting"), "results": "", "code": ""}
        async for out in relay(services, request, "train", flat_from_config(cfg), lang, NAMES, blank, RUN_SECONDS,
                               predicted):
            yield out
    async def seeds_stream(dataset, n_samples, noise, n_classes, test_fraction, seed, shift_kind, angle, offset,
                           factor, shift_dataset, hidden_size, hidden_layers, rank, alpha, use_rslora, target_modules,
                           init, lr, pretrain_steps, adapt_steps, language="en", request: gr.Request = None):
        """The same settings on 10 seeds: every accuracy per seed, as the runs finish."""
        from ..insights.seeds import N_SEEDS
        values = {k: v for k, v in locals().items() if k in FLAT_FIELDS or k == "language"}
        cfg, lang = checked(values)
        predicted = N_SEEDS * cost.run_seconds(cfg, snapshots=0)
        if predicted > BUDGET_S:
            raise gr.Error(t(lang, "too_costly", seconds=predicted, most=BUDGET_S), title=t(lang, "err_invalid"),
                           print_exception=False)
        async for out in relay(services, request, "seeds", flat_from_config(cfg), lang, SEEDS_NAMES,
                               {"seeds_status": t(lang, "starting"), "seeds_table": ""}, RUN_SECONDS, predicted,
                               status="seeds_status"):
            yield out
    return train_stream, seeds_stream


def build(page: Page, train_btn, services: Services) -> list:
    """The tab's layout and listeners; returns the events that Stop cancels."""
    lang = page.lang
    page.markdown("presets", lambda s: f"**{s}**")
    with gr.Row():
        preset_btns = {k: page.custom(gr.Button(p.title[lang], size="sm", elem_id=f"preset-{k}"),
                                      lambda lg, p=p: p.title[lg]) for k, p in PRESETS.items()}
    lesson = gr.Markdown("", elem_id="lesson")
    out = {"status": page.markdown("ready", elem_id="status")}
    with gr.Row():
        for name, elem in (("base_source", "plot-base-source"), ("base_target", "plot-base-target"),
                           ("lora_target", "plot-lora-target")):
            out[name] = gr.Plot(show_label=False, elem_id=elem)
    page.caption("cap_boundaries")
    with gr.Row():
        with gr.Column(scale=3):
            out["loss"] = gr.Plot(show_label=False, elem_id="plot-loss")
            page.caption("cap_loss")
        with gr.Column(scale=2):
            out["params"] = gr.Plot(show_label=False, elem_id="plot-params")
            page.caption("cap_params")
    out["results"] = gr.Markdown(elem_id="results")
    with gr.Accordion(t(lang, "seeds_button"), open=False) as seeds_acc:
        page.markdown("seeds_intro", elem_classes="caption")
        seeds_btn = page.words(gr.Button(t(lang, "seeds_button"), size="sm", elem_id="seeds-run"), "seeds_button")
        seeds_out = {"seeds_status": gr.Markdown(elem_id="seeds-status"),
                     "seeds_plot": gr.Plot(show_label=False, elem_id="plot-seeds"),
                     "seeds_table": gr.Markdown(elem_id="seeds-table")}
    page.label(seeds_acc, "seeds_button")
    page.markdown("h_replay")
    out["replay"] = gr.Plot(show_label=False, elem_id="plot-replay")
    page.caption("cap_replay")
    with gr.Row():
        out["download"] = page.label(gr.File(label=t(lang, "export_file"), elem_id="export", scale=2), "export_file")
        out["code"] = page.label(gr.Code(language="python", label=t(lang, "export_code"), elem_id="peft-code",
                                         scale=3, interactive=False), "export_code")
    with gr.Accordion(t(lang, "metrics_json"), open=False) as metrics_acc:
        out["metrics"] = gr.JSON(elem_id="metrics", show_label=False)
    page.label(metrics_acc, "metrics_json")

    outputs = [out[n] for n in NAMES]
    handler, seeds_handler = make_handler(services)
    kwargs = dict(concurrency_limit=None, show_progress="minimal", show_progress_on=[out["status"]],
                  preprocess=False,  # raw values: the handler checks each
                  trigger_mode="multiple")  # a new click replaces the running one (the scheduler stops it)
    runs = [train_btn.click(handler, page.inputs, outputs, api_name="train", **kwargs),
            seeds_btn.click(seeds_handler, page.inputs, [seeds_out[n] for n in SEEDS_NAMES], api_name="seeds",
                            concurrency_limit=None, show_progress="minimal",
                            show_progress_on=[seeds_out["seeds_status"]], preprocess=False, trigger_mode="multiple")]
    setting_widgets = [page.settings[name] for name in FLAT_FIELDS]
    for key, btn in preset_btns.items():
        def apply_preset(lang, key=key):
            values = {**DEFAULTS, **PRESETS[key].settings}
            preset = PRESETS[key]
            return [values[n] for n in FLAT_FIELDS] + [f"**{preset.title[lang]}.** {preset.lesson[lang]}"]
        runs.append(btn.click(apply_preset, page.language, setting_widgets + [lesson], queue=False,
                              api_visibility="private")
                    .then(handler, page.inputs, outputs, api_visibility="private", **kwargs))
    return runs
