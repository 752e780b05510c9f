"""The web app: the page, its tabs and the wiring between them (links, language, Stop).

lora_demo.ui is the only package that imports gradio. Every user's run lives inside one call of a
tab's handler; nothing here is shared between users but the page definition.
"""
from __future__ import annotations

import os
from pathlib import Path

import gradio as gr

from ..config import FLAT_FIELDS
from ..links import query_from_settings, settings_from_query
from ..scheduler import MAX_WAITING, Scheduler
from ..text import LANGUAGES, t
from ..workers import Pool, make_pool
from . import insights_tab, library_tab, race_tab, real_tab, train_tab
from .downloads import Downloads
from .page import DEFAULTS, SHIFT_FIELDS, Page, layer_names
from .queue_cost import quieter_queue
from .relay import Services, caller_check
from .session_cost import cheaper_sessions

QUEUE_SIZE = 64        # requests waiting in Gradio's own queue (ours is the scheduler's) beyond this are refused
DOWNLOADS_MB = 200     # all downloads together (LORA_DOWNLOADS_MB overrides); older ones go first

SHARE_JS = """(q) => {
  const url = window.location.origin + window.location.pathname + q;
  try { window.history.replaceState(null, "", q); } catch (e) {}
  if (navigator.clipboard) { navigator.clipboard.writeText(url).catch(() => {}); }
  return url;
}"""
AUTORUN_JS = """() => {
  if (new URLSearchParams(window.location.search).get("run") === "1") {
    setTimeout(() => document.querySelector("#train")?.click(), 200);
  }
}"""

CSS = """
#status {min-height: 2.6em}
.caption p {font-size: 0.85em; color: #6b7280; margin: 0}
#lesson {border-left: 3px solid #d946ef; padding-left: 10px}
#lesson:empty {display: none}
footer {display: none !important}
#race-table {overflow-x: auto}
#race-table table {font-size: 0.85em}
#race-table th, #race-table td {word-break: normal; overflow-wrap: normal; hyphens: none}
#race-table td:first-child {white-space: nowrap}
"""

# show_error: Gradio's own checks (e.g. too few values from a raw HTTP client) then say what is wrong;
# our handlers turn every exception into a gr.Error themselves, so no stack trace can reach anyone.
# state_session_capacity: Gradio keeps each session's last output values (whole figures, ~0.3 MB a run);
# remembering the last 100 sessions (not 10,000) bounds that at ~30 MB. The app keeps nothing in a
# session, so a session that is forgotten loses nothing.
# max_threads: Gradio runs at most this many events at once, whatever their concurrency limits; every request
# waiting in the scheduler's queue is one of them.
# max_file_size: the app takes no uploads; Gradio's upload route stays open to anyone, so keep it tiny.
LAUNCH_KWARGS = dict(theme=gr.themes.Soft(), css=CSS, footer_links=["api"], run_history=False, show_error=True,
                     state_session_capacity=100, max_threads=MAX_WAITING + 60, max_file_size="1kb")


def launch_kwargs(demo: gr.Blocks) -> dict:
    """LAUNCH_KWARGS plus the guards in front of Gradio (body size, REST-route readers, unknown functions)."""
    from starlette.middleware import Middleware

    from .guards import BodyGuard, CallWatch, unknown_function
    middleware = [Middleware(BodyGuard), Middleware(CallWatch, watched=demo.services.call_readers)]
    return dict(LAUNCH_KWARGS, app_kwargs={"middleware": middleware,
                                           "exception_handlers": {KeyError: unknown_function}})


def make_services(pool: Pool | None = None) -> Services:
    """The pool (started in the background now), its scheduler and the download folder."""
    from gradio.utils import get_upload_folder
    pool = pool or make_pool()
    pool.launch()
    cap_mb = float(os.environ.get("LORA_DOWNLOADS_MB", DOWNLOADS_MB))
    return Services(Scheduler(pool), Downloads(Path(get_upload_folder()) / "lora_downloads", int(cap_mb * 2**20)))


def build_demo(services: Services | None = None) -> gr.Blocks:
    """The page; its heavy work runs in services' pool (a new local pool when none is given)."""
    services = services or make_services()
    page = Page("en")
    lang = page.lang
    with gr.Blocks(title="LoRA Playground") as demo:
        with gr.Row():
            page.markdown("intro")
            page.language = page.label(gr.Radio([(v, k) for k, v in LANGUAGES.items()], value=lang,
                                                 label=t(lang, "language"), elem_id="language", scale=0,
                                                 min_width=180), "language")
        notice_md = gr.Markdown(elem_id="notice")  # what a link held that could not be used
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=300):
                with gr.Row():
                    train_btn = page.words(gr.Button(t(lang, "train"), variant="primary", elem_id="train"), "train")
                    stop_btn = page.words(gr.Button(t(lang, "stop"), variant="stop", elem_id="stop"), "stop")
                page.add_settings()
                with gr.Accordion(t(lang, "share"), open=False) as share_acc:
                    share_btn = page.words(gr.Button(t(lang, "share"), size="sm", elem_id="share"), "share")
                    link_box = page.label(gr.Textbox(label=t(lang, "share_box"), elem_id="share-link",
                                                     buttons=["copy"], interactive=False), "share_box")
                page.label(share_acc, "share")
            with gr.Column(scale=3):
                with gr.Tabs():
                    with gr.Tab(t(lang, "tab_train"), id="train-tab", elem_id="tab-train") as tab:
                        runs = train_tab.build(page, train_btn, services)
                    page.label(tab, "tab_train")
                    with gr.Tab(t(lang, "tab_insights"), id="insights-tab", elem_id="tab-insights") as tab:
                        runs += insights_tab.build(page, services)
                    page.label(tab, "tab_insights")
                    with gr.Tab(t(lang, "race_tab"), id="race-tab", elem_id="tab-race") as tab:
                        runs += race_tab.build(page, services)
                    page.label(tab, "race_tab")
                    with gr.Tab(t(lang, "lib_tab"), id="library-tab", elem_id="tab-library") as tab:
                        runs += library_tab.build(page, services)
                    page.label(tab, "lib_tab")
                    with gr.Tab(t(lang, "real_tab"), id="real-tab", elem_id="tab-real") as tab:
                        real_tab.build(page, tab)
                    page.label(tab, "real_tab")
        stop_btn.click(None, None, None, cancels=runs, api_visibility="private")

        page.language.change(page.language_updates, page.language, page.targets(), queue=False,
                             api_visibility="private")

        # shareable link: the server writes the query, the browser adds its own address and copies it
        def make_query(*values):
            *settings, lang = values
            return query_from_settings(dict(zip(FLAT_FIELDS, settings)), lang if lang in LANGUAGES else "en")
        share_btn.click(make_query, page.inputs, link_box, queue=False, api_visibility="private").then(
            None, link_box, link_box, js=SHARE_JS)

        # opening a link: restore its settings and language, then train if it says run=1
        setting_widgets = [page.settings[name] for name in FLAT_FIELDS]

        def apply_query(request: gr.Request):
            query = dict(request.query_params) if request else {}
            found, problems = settings_from_query(query)
            lang = query.get("lang") if query.get("lang") in LANGUAGES else "en"
            values = [found.get(n, gr.skip()) for n in FLAT_FIELDS]
            # the target layers come with the choices the link's depth allows, set in the same update
            depth = found.get("hidden_layers", DEFAULTS["hidden_layers"])
            if "target_modules" in found or "hidden_layers" in found:
                kept = [t for t in DEFAULTS["target_modules"] if int(t[2:]) <= depth + 1]
                targets = found.get("target_modules", kept)
                values[list(FLAT_FIELDS).index("target_modules")] = gr.update(choices=layer_names(depth),
                                                                              value=targets or ["fc1"])
            notice = "\n\n".join(f"⚠️ {p}" for p in problems)  # one paragraph each
            return values + [lang, notice]
        demo.load(apply_query, None, setting_widgets + [page.language, notice_md], queue=False,
                  api_visibility="private").then(None, None, None, js=AUTORUN_JS)

        # keep the controls consistent with each other
        def show_shift_fields(kind):
            return [gr.update(visible=SHIFT_FIELDS.get(kind) == name) for name in SHIFT_FIELDS.values()]
        page.settings["shift_kind"].change(show_shift_fields, page.settings["shift_kind"],
                                           [page.settings[n] for n in SHIFT_FIELDS.values()], queue=False,
                                           api_visibility="private")

        def layer_choices(hidden_layers, targets):
            try:
                names = layer_names(int(hidden_layers))
            except (TypeError, ValueError):
                return gr.skip()
            return gr.update(choices=names, value=[x for x in (targets or []) if x in names] or ["fc1"])
        # .input, not .change: a link or a preset sets depth and layers together and must not be overridden
        page.settings["hidden_layers"].input(layer_choices, [page.settings["hidden_layers"],
                                                             page.settings["target_modules"]],
                                             page.settings["target_modules"], queue=False, api_visibility="private")
    # status_update_rate: Gradio's own queue position goes to its waiting events once a second. By default it
    # goes to every one of them each time one starts: fifty clicks within a few milliseconds cost about 750
    # messages (measured) before the first run began. A job event leaves that queue at once (our place is shown by
    # the relay); the few events that wait in it are quick ones.
    demo.queue(default_concurrency_limit=1, max_size=QUEUE_SIZE, api_open=False, status_update_rate=1.0)
    quieter_queue(demo)
    cheaper_sessions(demo)
    services.caller = caller_check(demo, services.call_readers)
    demo.services = services  # for closing its pool, and for tests and benchmarks
    return demo


def launch(demo: gr.Blocks | None = None, **kwargs) -> gr.Blocks:
    """Start the app; GRADIO_SERVER_NAME / GRADIO_SERVER_PORT are honoured by Gradio itself."""
    demo = demo or build_demo()
    demo.launch(**{**launch_kwargs(demo), **kwargs})
    return demo


def serve_in_process(port: int, host: str = "127.0.0.1", demo: gr.Blocks | None = None) -> gr.Blocks:
    """The app on host:port from this process (tests, benchmarks, scripts), returned once its workers are up."""
    demo = demo or build_demo()
    if not demo.services.scheduler.pool.wait_ready(180):
        raise RuntimeError("the worker processes did not start")
    demo.launch(prevent_thread_lock=True, server_name=host, server_port=port, quiet=True, **launch_kwargs(demo))
    return demo


def close(demo: gr.Blocks) -> None:
    """Stop the server and the demo's worker processes."""
    demo.close()
    demo.services.scheduler.pool.close()
