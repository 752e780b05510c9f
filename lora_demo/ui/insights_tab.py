"""The Insights tab: every panel for the current settings, streamed panel by panel by /insights."""
from __future__ import annotations

import time

import gradio as gr

from ..fit import RunTooLong, TrainingDiverged
from ..plots import insights as ins_plots
from ..text import t
from .page import Page, plot
from .runs import checked, log

OUTPUTS = ("status", "m_full", "m_adapter", "m_lora", "m_table", "m_params", "m_lr", "sweep", "delta",
           "strength_plot", "merge", "alpha", "memory")
CONCURRENCY = 2
BUDGET_S = 15.0  # predicted seconds of computing (lora_demo.cost) beyond which a request is refused


def methods_table(b, lang: str) -> str:
    """Each method at each learning rate: accuracy, with the method's best rate in bold."""
    lrs = [r.lr for r in next(iter(b.by_lr.values()))]
    head = f"| {t(lang, 'col_method')} | {t(lang, 'col_trainable')} | " + " | ".join(f"lr {x:g}" for x in lrs) + " |"
    rows = [head, "|---|---|" + "---|" * len(lrs)]
    for key, runs in b.by_lr.items():
        best = b.best_lr(key)
        name = ins_plots.method_label(key, lang) + (f" (m={b.adapter_bottleneck})" if key == "adapter" else "")
        cells = [f"**{100 * r.accuracy:.1f}%**" if r.lr == best else f"{100 * r.accuracy:.1f}%" for r in runs]
        rows.append(f"| {name} | {runs[0].params.trainable:,} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def merge_table(mg, lang: str) -> str:
    return t(lang, "merge_table", f32=mg.max_abs_diff_float32, bf16=mg.max_abs_diff_bfloat16,
             bf16u=mg.max_abs_diff_bfloat16_unmerged, t_base=mg.seconds_base * 1e6, t_un=mg.seconds_unmerged * 1e6,
             t_m=mg.seconds_merged * 1e6, n=mg.repeats)


def panels(name: str, a, cfg, lang: str) -> dict:
    """The outputs one analysis step fills in."""
    out = {}
    if name == "step_methods":
        b = a.baselines
        figs = ins_plots.method_boundaries(b, a.ticks, a.target, lang)
        out.update(m_full=plot(figs["full_finetune"]), m_adapter=plot(figs["adapter"]), m_lora=plot(figs["lora"]),
                   m_table=methods_table(b, lang),
                   m_params=plot(ins_plots.method_params_figure(b, a.base_params, cfg.lora.rank, lang)),
                   m_lr=plot(ins_plots.lr_figure(b, cfg.train.lr, lang)))
    elif name == "step_sweep":
        full = a.baselines.at_run_lr["full_finetune"]
        out["sweep"] = plot(ins_plots.sweep_figure(a.sweep, full.accuracy, full.params.trainable, lang))
    elif name == "step_alpha":
        from ..insights.alpha import EARLY_STEP
        out["alpha"] = plot(ins_plots.alpha_figure(a.alpha.runs, lang, early_step=EARLY_STEP))
    elif name == "step_rest":
        out["delta"] = plot(ins_plots.delta_figure(a.delta.layers, lang))
        out["strength_plot"] = plot(ins_plots.strength_figure(a.ticks, a.target, a.strengths, lang))
        out["merge"] = merge_table(a.merge, lang)
        out["memory"] = plot(ins_plots.memory_figure(a.memory, lang))
    return out


def insights_stream(dataset, n_samples, noise, n_classes, test_fraction, seed, shift_kind, angle, offset, factor,
                    shift_dataset, hidden_size, hidden_layers, rank, alpha, use_rslora, target_modules, init, lr,
                    pretrain_steps, adapt_steps, language="en"):
    """Every Insights panel for these settings, streamed panel by panel."""
    cfg, lang = checked(dict(locals()))
    from .. import cost, insights
    seconds = cost.insights_seconds(cfg)
    if seconds > BUDGET_S:
        raise gr.Error(t(lang, "too_much_work", seconds=seconds, most=BUDGET_S), title=t(lang, "err_invalid"),
                       print_exception=False)
    start = time.monotonic()
    built: dict = {}  # every panel made so far: the last update repeats them, so an API result is complete
    try:
        for name, a in insights.analyse(cfg):
            out = panels(name, a, cfg, lang)
            i, steps = insights.STEPS.index(name), insights.STEPS
            out["status"] = (t(lang, "insights_busy", what=t(lang, steps[i + 1])) if i + 1 < len(steps)
                             else t(lang, "insights_done", seconds=time.monotonic() - start))
            built.update(out)
            if i + 1 == len(steps):
                out = built
            yield tuple(out.get(k, gr.skip()) for k in OUTPUTS)
    except (TrainingDiverged, RunTooLong) as e:
        raise gr.Error(str(e), title=t(lang, "err_stopped"), print_exception=False) from None
    except Exception:  # never show a stack trace; keep serving
        log.exception("insights failed for %s", cfg)
        raise gr.Error(t(lang, "err_internal"), print_exception=False) from None


def build(page: Page) -> list:
    """The tab's layout and listeners; returns the events that Stop cancels."""
    lang = page.lang
    page.markdown("insights_intro")
    run_btn = page.words(gr.Button(t(lang, "run_insights"), variant="primary", elem_id="insights-run"), "run_insights")
    out = {"status": page.markdown("insights_ready", elem_id="insights-status")}
    page.markdown("h_methods")
    with gr.Row():
        for key in ("m_full", "m_adapter", "m_lora"):
            out[key] = gr.Plot(show_label=False, elem_id="plot-" + key.replace("_", "-"))
    with gr.Row():
        out["m_table"] = gr.Markdown(elem_id="methods-table")
        out["m_params"] = gr.Plot(show_label=False, elem_id="plot-m-params")
    out["m_lr"] = gr.Plot(show_label=False, elem_id="plot-m-lr")
    page.caption("cap_methods")
    for key in ("sweep", "delta"):
        page.markdown("h_" + key)
        out[key] = gr.Plot(show_label=False, elem_id="plot-" + key)
        page.caption("cap_" + key)
    page.markdown("h_merge")
    with gr.Row():
        out["strength_plot"] = gr.Plot(show_label=False, elem_id="plot-strength")
        out["merge"] = gr.Markdown(elem_id="merge-table")
    page.caption("cap_merge")
    for key in ("alpha", "memory"):
        page.markdown("h_" + key)
        out[key] = gr.Plot(show_label=False, elem_id="plot-" + key)
        page.caption("cap_" + key)
    event = run_btn.click(insights_stream, page.inputs, [out[k] for k in OUTPUTS], api_name="insights",
                          concurrency_limit=CONCURRENCY, concurrency_id="insights", show_progress="minimal",
                          show_progress_on=[out["status"]], preprocess=False)
    return [event]
