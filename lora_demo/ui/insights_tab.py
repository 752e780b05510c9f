"""The Insights tab: every panel for the current settings, streamed panel by panel by /insights (a job
in a worker, relayed)."""
from __future__ import annotations

import gradio as gr

from .. import cost
from ..text import t
from .page import Page
from .relay import Services
from .runs import JOB_EVENT, job_body, settings_handler

NAMES = ("status", "m_full", "m_adapter", "m_lora", "m_table", "m_params", "m_lr", "sweep", "delta",
         "strength_plot", "merge", "alpha", "memory")
SECONDS = 30.0   # hard cap of one request
BUDGET_S = 15.0  # predicted seconds of computing (lora_demo.cost) beyond which a request is refused


def make_handler(services: Services, out: dict):
    body = job_body(services, "insights", NAMES, "status",
                    lambda lang: {"status": t(lang, "insights_busy", what=t(lang, "step_base")), "m_table": "",
                                  "merge": ""},
                    cost.insights_seconds, BUDGET_S, SECONDS, out)
    return settings_handler(body, "Every Insights panel for these settings, streamed panel by panel.")


def build(page: Page, services: Services) -> list:
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
    event = run_btn.click(make_handler(services, out), page.inputs, [out[k] for k in NAMES], api_name="insights",
                          show_progress_on=[out["status"]], **JOB_EVENT)
    return [event]
