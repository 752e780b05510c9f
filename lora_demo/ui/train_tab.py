"""The Train tab: presets, the status line, three boundaries, the loss and parameter charts, the results,
the PEFT download; and the streaming /train handler."""
from __future__ import annotations

import time

import gradio as gr

from .. import export, report
from ..config import FLAT_FIELDS
from ..plots import run as run_plots
from ..presets import PRESETS
from ..text import t
from ..train import RunTooLong, TrainingDiverged, run
from .page import DEFAULTS, Page, plot
from .runs import checked, log

UPDATE_GAP = 0.25      # seconds between two streamed updates: faster makes the page lag
FRAMES = 5             # step-based snapshots per run, on top of start, phase change and end
RUN_SECONDS = 30.0     # one request's training budget
CONCURRENCY = 4        # runs at once; each uses one torch thread and sleeps between updates


def _figures_for(snap, cfg, lang, seen: dict) -> list:
    """The five figures for this snapshot, with gr.skip() for the frozen base's two boundaries while
    LoRA trains: the large figures that stay the same for many frames."""
    out = []
    if snap.base_probs is not seen.get("base"):
        seen["base"] = snap.base_probs
        out += [plot(f) for f in run_plots.base_figures(snap, lang)]
    else:
        out += [gr.skip(), gr.skip()]
    out.append(plot(run_plots.lora_figure(snap, lang)))
    out.append(plot(run_plots.run_loss_figure(snap, cfg, lang)))
    out.append(plot(run_plots.run_params_figure(snap, cfg, lang)))
    return out


def train_stream(dataset, n_samples, noise, n_classes, test_fraction, seed, shift_kind, angle, offset, factor,
                 shift_dataset, hidden_size, hidden_layers, rank, alpha, use_rslora, target_modules, init, lr,
                 pretrain_steps, adapt_steps, language="en"):
    """Train a base model, then LoRA; stream status, three boundaries, loss, parameters, results, metrics."""
    values = dict(locals())
    cfg, lang = checked(values)
    total = cfg.train.pretrain_steps + cfg.train.adapt_steps
    seen: dict = {}
    sent = 0.0
    try:
        for snap in run(cfg, every_steps=max(1, total // FRAMES), every_seconds=2 * UPDATE_GAP,
                        max_snapshots=40, max_seconds=RUN_SECONDS):
            if snap.done:
                seen = {}  # the last update carries every figure, so an API caller's result is complete
            out = [report.status_line(snap, cfg, lang), *_figures_for(snap, cfg, lang, seen)]
            if snap.done:
                model = export.model_from_state(snap.model_state, cfg.lora)
                export.prune_exports()
                out += [report.results_markdown(snap, cfg, lang), str(export.export_zip(model, init=cfg.lora.init)),
                        export.peft_loading_code("lora_adapter", cfg.lora.target_modules), report.metrics(snap, cfg)]
            else:
                out += ["", None, "", None]  # results, download, code, metrics: empty until the end
                wait = UPDATE_GAP - (time.monotonic() - sent)
                if sent and wait > 0:
                    time.sleep(wait)  # pace the animation; costs no CPU
            sent = time.monotonic()
            yield tuple(out)
    except (TrainingDiverged, RunTooLong) as e:
        raise gr.Error(str(e), title=t(lang, "err_stopped"), print_exception=False) from None
    except Exception:  # never show a stack trace; keep serving
        log.exception("run failed for %s", values)
        raise gr.Error(t(lang, "err_internal"), print_exception=False) from None


def build(page: Page, train_btn) -> list:
    """The tab's layout and listeners; returns the events that Stop cancels."""
    lang = page.lang
    page.markdown("presets", lambda s: f"**{s}**")
    with gr.Row():
        preset_btns = {k: page.custom(gr.Button(p.title[lang], size="sm", elem_id=f"preset-{k}"),
                                      lambda lg, p=p: p.title[lg]) for k, p in PRESETS.items()}
    lesson = gr.Markdown("", elem_id="lesson")
    status = page.markdown("ready", elem_id="status")
    with gr.Row():
        b_src = gr.Plot(show_label=False, elem_id="plot-base-source")
        b_tgt = gr.Plot(show_label=False, elem_id="plot-base-target")
        b_lora = gr.Plot(show_label=False, elem_id="plot-lora-target")
    page.caption("cap_boundaries")
    with gr.Row():
        with gr.Column(scale=3):
            loss = gr.Plot(show_label=False, elem_id="plot-loss")
            page.caption("cap_loss")
        with gr.Column(scale=2):
            params = gr.Plot(show_label=False, elem_id="plot-params")
            page.caption("cap_params")
    results = gr.Markdown(elem_id="results")
    with gr.Row():
        export_file = page.label(gr.File(label=t(lang, "export_file"), elem_id="export", scale=2), "export_file")
        export_code = page.label(gr.Code(language="python", label=t(lang, "export_code"), elem_id="peft-code",
                                         scale=3, interactive=False), "export_code")
    with gr.Accordion(t(lang, "metrics_json"), open=False) as metrics_acc:
        metrics = gr.JSON(elem_id="metrics", show_label=False)
    page.label(metrics_acc, "metrics_json")

    outputs = [status, b_src, b_tgt, b_lora, loss, params, results, export_file, export_code, metrics]
    kwargs = dict(concurrency_limit=CONCURRENCY, concurrency_id="train", show_progress="minimal",
                  show_progress_on=[status], preprocess=False)  # raw values: train_stream checks each
    runs = [train_btn.click(train_stream, page.inputs, outputs, api_name="train", **kwargs)]
    setting_widgets = [page.settings[name] for name in FLAT_FIELDS]
    for key, btn in preset_btns.items():
        def apply_preset(lang, key=key):
            values = {**DEFAULTS, **PRESETS[key].settings}
            preset = PRESETS[key]
            return [values[n] for n in FLAT_FIELDS] + [f"**{preset.title[lang]}.** {preset.lesson[lang]}"]
        runs.append(btn.click(apply_preset, page.language, setting_widgets + [lesson], queue=False,
                              api_visibility="private")
                    .then(train_stream, page.inputs, outputs, api_visibility="private", **kwargs))
    return runs
