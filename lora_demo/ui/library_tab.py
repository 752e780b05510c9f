"""The Library tab: one adapter per shifted task on one frozen base; switch, mix, compare, store, download
(/library). Switching and mixing happen inside the figures, in the browser."""
from __future__ import annotations

import gradio as gr

from .. import cost
from ..text import t
from .page import Page
from .relay import Services
from .runs import JOB_EVENT, job_body, settings_handler

NAMES = ("lib_status", "lib_switch", "lib_mix", "lib_accuracy", "lib_storage", "lib_download")
BUDGET_S, SECONDS = 15.0, 30.0


def build(page: Page, services: Services) -> list:
    lang = page.lang
    page.markdown("lib_h")
    page.markdown("lib_intro", elem_classes="caption")
    run_btn = page.words(gr.Button(t(lang, "lib_run"), variant="primary", elem_id="library-run"), "lib_run")
    out = {"lib_status": page.markdown("lib_ready", elem_id="library-status")}
    with gr.Row():
        with gr.Column():
            out["lib_switch"] = gr.Plot(show_label=False, elem_id="plot-lib-switch")
            page.caption("lib_cap_switch")
        with gr.Column():
            out["lib_mix"] = gr.Plot(show_label=False, elem_id="plot-lib-mix")
            page.caption("lib_cap_mix")
    with gr.Row():
        with gr.Column():
            out["lib_accuracy"] = gr.Plot(show_label=False, elem_id="plot-lib-accuracy")
            page.caption("lib_cap_matrix")
        with gr.Column():
            out["lib_storage"] = gr.Plot(show_label=False, elem_id="plot-lib-storage")
            page.caption("lib_cap_storage")
    out["lib_download"] = page.label(gr.File(label=t(lang, "lib_download"), elem_id="library-export"), "lib_download")
    page.caption("lib_download_note")
    body = job_body(services, "library", NAMES, "lib_status", lambda lg: {"lib_status": t(lg, "lib_busy") + " …"},
                    cost.library_seconds, BUDGET_S, SECONDS, out)
    event = run_btn.click(settings_handler(body, "One adapter per shifted task on the run's frozen base."),
                          page.inputs, [out[n] for n in NAMES], api_name="library",
                          show_progress_on=[out["lib_status"]], **JOB_EVENT)
    return [event]
