"""The Variants tab: LoRA, rsLoRA, DoRA, PiSSA, OLoRA and LoRA+ raced on the run's frozen base (/race)."""
from __future__ import annotations

import gradio as gr

from .. import cost
from ..text import t
from .page import Page
from .relay import Services
from .runs import JOB_EVENT, job_body, settings_handler

NAMES = ("race_status", "race_intro", "race_boundaries", "race_loss", "race_summary", "race_table", "race_notes")
BUDGET_S, SECONDS = 15.0, 30.0


def build(page: Page, services: Services) -> list:
    lang = page.lang
    page.markdown("race_heading")
    run_btn = page.words(gr.Button(t(lang, "race_run"), variant="primary", elem_id="race-run"), "race_run")
    out = {"race_status": page.markdown("race_ready", elem_id="race-status"),
           "race_intro": gr.Markdown(elem_id="race-intro"),
           "race_boundaries": gr.Plot(show_label=False, elem_id="plot-race-boundaries")}
    with gr.Row():
        out["race_loss"] = gr.Plot(show_label=False, elem_id="plot-race-loss")
        out["race_summary"] = gr.Plot(show_label=False, elem_id="plot-race-summary")
    out["race_table"] = gr.Markdown(elem_id="race-table")
    out["race_notes"] = gr.Markdown(elem_id="race-notes")
    page.caption("race_caption")
    body = job_body(services, "race", NAMES, "race_status",
                    lambda lg: {"race_status": t(lg, "race_busy"), "race_intro": "", "race_table": "",
                                "race_notes": ""}, cost.race_seconds, BUDGET_S, SECONDS, out)
    event = run_btn.click(settings_handler(body, "LoRA and five variants on the run's frozen base, same steps."),
                          page.inputs, [out[n] for n in NAMES], api_name="race",
                          show_progress_on=[out["race_status"]], **JOB_EVENT)
    return [event]
