"""The From-toy-to-real tab: the run's rank and α, and a choice of layer kinds, applied to the shapes of
well-known models (/real). Arithmetic only: it runs in the web process, no worker, no queue wait."""
from __future__ import annotations

import gradio as gr

from ..config import ConfigError, lora_scaling, rule_of
from ..plots.real import memory_figure, share_figure, table_rows
from ..real_models import TARGETS, table
from ..text import LANGUAGES, config_error_text, t
from .page import Page, plot


def real_view(rank, alpha, use_rslora, target, language="en"):
    """The two charts, the table and the scaling note for these settings."""
    lang = language if language in LANGUAGES else "en"
    try:
        rank = rule_of("rank")("lora.rank", rank)
        alpha = rule_of("alpha")("lora.alpha", alpha)
        use_rslora = rule_of("use_rslora")("lora.use_rslora", use_rslora)
    except ConfigError as e:
        raise gr.Error(config_error_text(e, lang), title=t(lang, "err_invalid"), print_exception=False) from None
    if target not in TARGETS:
        raise gr.Error(f"target must be one of {', '.join(TARGETS)}; got {target!r}", title=t(lang, "err_invalid"),
                       print_exception=False)
    rows = table(rank, target)
    headers, body = table_rows(rows, lang)
    md = "\n".join(["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
                   + ["| " + " | ".join(str(c) for c in r) + " |" for r in body])
    rule = t(lang, "real_rule_rslora" if use_rslora else "real_rule_plain")
    note = t(lang, "real_scaling_note", alpha=alpha, rule=rule, scaling=lora_scaling(rank, alpha, use_rslora))
    return plot(share_figure(rows, rank, target, lang)), plot(memory_figure(rows, rank, target, lang)), md, note


def build(page: Page, tab) -> None:
    """The panel inside `tab`; it draws itself when the tab is opened, and again on every change."""
    lang = page.lang
    page.markdown("real_heading")
    page.markdown("real_intro", elem_classes="caption")
    target = page.custom(gr.Radio([(t(lang, "real_target_" + k), k) for k in TARGETS], value="all",
                                  label=t(lang, "real_target_label"), info=t(lang, "real_target_info"),
                                  elem_id="real-target"),
                         lambda lg: gr.update(choices=[(t(lg, "real_target_" + k), k) for k in TARGETS],
                                              label=t(lg, "real_target_label"), info=t(lg, "real_target_info")))
    show = page.words(gr.Button(t(lang, "real_show"), variant="primary", elem_id="real-run"), "real_show")
    note = gr.Markdown(elem_id="real-note")
    share = gr.Plot(show_label=False, elem_id="plot-real-share")    # full width: seven models' labels need it
    memory = gr.Plot(show_label=False, elem_id="plot-real-memory")
    page.caption("real_caption")
    tbl = gr.Markdown(elem_id="real-table")
    page.caption("real_assumptions")
    inputs = [page.settings["rank"], page.settings["alpha"], page.settings["use_rslora"], target, page.language]
    show.click(real_view, inputs, [share, memory, tbl, note], api_name="real", preprocess=False,
               concurrency_limit=4, concurrency_id="real")
    for event in (target.change, tab.select):
        event(real_view, inputs, [share, memory, tbl, note], api_visibility="private", preprocess=False,
              concurrency_limit=4, concurrency_id="real")
