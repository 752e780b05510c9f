"""The Train tab: presets, the status line, three boundaries, the loss and parameter charts, the results,
the PEFT download and the replay; and the streaming /train handler, which relays a worker's job."""
from __future__ import annotations

import gradio as gr

from .. import cost
from ..config import FLAT_FIELDS
from ..presets import PRESETS
from ..text import quote, t
from .page import DEFAULTS, Page, layer_names
from .relay import Services
from .runs import JOB_EVENT, job_body, settings_handler

RUN_SECONDS = 30.0     # one request's hard cap (the worker is killed at this plus a little)
BUDGET_S = 15.0        # refused up front when lora_demo.cost predicts more seconds than this
# the API's outputs in this order; metrics stay last (the README unpacks `*_, metrics = client.predict(...)`)
NAMES = ("status", "base_source", "base_target", "lora_target", "loss", "params", "results", "download", "code",
         "replay", "metrics")
SEEDS_NAMES = ("seeds_status", "seeds_plot", "seeds_table")


def make_handlers(services: Services, out: dict):
    """/train and /seeds; out: their output components by name."""
    from ..insights.seeds import N_SEEDS
    train = job_body(services, "train", NAMES, "status",
                     lambda lang: {"status": t(lang, "starting"), "results": "", "code": ""},
                     cost.run_seconds, BUDGET_S, RUN_SECONDS, out)
    seeds = job_body(services, "seeds", SEEDS_NAMES, "seeds_status",
                     lambda lang: {"seeds_status": t(lang, "starting"), "seeds_table": ""},
                     lambda cfg: N_SEEDS * cost.run_seconds(cfg, snapshots=0), BUDGET_S, RUN_SECONDS, out)
    return (settings_handler(train, "Train a base model, then LoRA; stream status, figures, results, metrics."),
            settings_handler(seeds, "The same settings on 10 seeds: every accuracy per seed."))


def build(page: Page, train_btn, services: Services) -> list:
    """The tab's layout and listeners; returns the events that Stop cancels."""
    lang = page.lang
    page.markdown("presets", lambda s: f"**{s}**")
    with gr.Row():
        preset_btns = {k: page.custom(gr.Button(p.title[lang], size="sm", elem_id=f"preset-{k}"),
                                      lambda lg, p=p: p.title[lg]) for k, p in PRESETS.items()}
    lesson = gr.Markdown("", elem_id="lesson")
    with gr.Row():  # a lesson's "now try this": one button per preset that has one, shown with its lesson
        next_btns = {k: page.custom(gr.Button(p.follow_up.title[lang], size="sm", variant="secondary",
                                              elem_id=f"next-{k}", visible=False),
                                    lambda lg, p=p: p.follow_up.title[lg])
                     for k, p in PRESETS.items() if p.follow_up is not None}
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
    out["download"] = page.label(gr.File(label=t(lang, "export_file"), elem_id="export"), "export_file")
    out["code"] = page.label(gr.Code(language="python", label=t(lang, "export_code"), elem_id="peft-code",
                                     interactive=False), "export_code")  # full width: its lines are long
    with gr.Accordion(t(lang, "metrics_json"), open=False) as metrics_acc:
        out["metrics"] = gr.JSON(elem_id="metrics", show_label=False)
    page.label(metrics_acc, "metrics_json")

    outputs = [out[n] for n in NAMES]
    handler, seeds_handler = make_handlers(services, {**out, **seeds_out})
    kwargs = dict(JOB_EVENT, show_progress_on=[out["status"]])
    runs = [train_btn.click(handler, page.inputs, outputs, api_name="train", **kwargs),
            seeds_btn.click(seeds_handler, page.inputs, [seeds_out[n] for n in SEEDS_NAMES], api_name="seeds",
                            show_progress_on=[seeds_out["seeds_status"]], **JOB_EVENT)]
    setting_widgets = [page.settings[name] for name in FLAT_FIELDS]
    next_list = list(next_btns.values())

    def settings_update(values: dict) -> list:
        out = [values[n] for n in FLAT_FIELDS]
        out[list(FLAT_FIELDS).index("target_modules")] = gr.update(choices=layer_names(values["hidden_layers"]),
                                                                   value=list(values["target_modules"]))
        return out

    for key, btn in preset_btns.items():
        def apply_preset(lang, key=key):
            preset = PRESETS[key]
            shown = [gr.update(visible=k == key) for k in next_btns]
            return (settings_update({**DEFAULTS, **preset.settings})
                    + [f"**{preset.title[lang]}.** {quote(preset.lesson[lang])}"] + shown)
        runs.append(btn.click(apply_preset, page.language, setting_widgets + [lesson] + next_list, queue=False,
                              api_visibility="private")
                    .then(handler, page.inputs, outputs, api_visibility="private", **kwargs))
    for key, btn in next_btns.items():
        def apply_follow_up(key=key):
            preset = PRESETS[key]
            return settings_update({**DEFAULTS, **preset.settings, **preset.follow_up.settings})
        runs.append(btn.click(apply_follow_up, None, setting_widgets, queue=False, api_visibility="private")
                    .then(handler, page.inputs, outputs, api_visibility="private", **kwargs))
    return runs
