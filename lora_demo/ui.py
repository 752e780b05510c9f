"""The web app: controls, the streaming /train handler, presets, links and languages.

The only module that imports gradio. Every user's run lives inside one call of train_stream.
"""
from __future__ import annotations

import logging
import time
from urllib.parse import urlencode

import gradio as gr

from . import export, figures, plots, report
from .config import FLAT_FIELDS, ConfigError, Flag, Layers, Num, RunConfig, config_from_flat, flat_from_config, rule_of
from .presets import PRESETS
from .text import LANGUAGES, choice_text, config_error_text, field_text, t
from .train import RunTooLong, TrainingDiverged, run

log = logging.getLogger("lora_demo")

UPDATE_GAP = 0.25      # seconds between two streamed updates: faster makes the page lag
FRAMES = 5             # step-based snapshots per run, on top of start, phase change and end
RUN_SECONDS = 30.0     # one request's training budget
CONCURRENCY = 4        # runs at once; each uses one torch thread and sleeps between updates
QUEUE_SIZE = 64        # waiting requests beyond this are told the queue is full

DEFAULTS = flat_from_config(RunConfig())
SLIDER_STEPS = {"n_samples": 20, "noise": 0.01, "n_classes": 1, "test_fraction": 0.05, "angle": 5,
                "offset": 0.1, "factor": 0.1, "hidden_size": 2, "hidden_layers": 1, "rank": 1,
                "pretrain_steps": 10, "adapt_steps": 10}
SHIFT_FIELDS = {"rotate": "angle", "translate": "offset", "scale": "factor", "dataset": "shift_dataset"}
GROUPS = [("group_data", ["dataset", "n_samples", "noise", "n_classes", "test_fraction", "seed"]),
          ("group_shift", ["shift_kind", *SHIFT_FIELDS.values()]),
          ("group_lora", ["rank", "alpha", "use_rslora", "target_modules", "init"]),
          ("group_model", ["hidden_size", "hidden_layers", "lr", "pretrain_steps", "adapt_steps"])]


def _choices(name: str, lang: str) -> list[tuple[str, str]]:
    return [(choice_text(lang, name, c), c) for c in rule_of(name).choices]


def _component(name: str, value, lang: str = "en"):
    label, info = field_text(lang, name)
    rule = rule_of(name)
    common = dict(label=label, info=info, elem_id=name.replace("_", "-"))
    if isinstance(rule, Num):
        precision = 0 if rule.integer else None
        if name in SLIDER_STEPS:
            return gr.Slider(rule.lo, rule.hi, value=value, step=SLIDER_STEPS[name], precision=precision, **common)
        return gr.Number(value=value, minimum=rule.lo, maximum=rule.hi, precision=precision, **common)
    if isinstance(rule, Flag):
        return gr.Checkbox(value=value, **common)
    if isinstance(rule, Layers):
        return gr.CheckboxGroup(list(rule.choices), value=list(value), **common)
    if name in ("shift_kind", "init"):
        return gr.Radio(_choices(name, lang), value=value, **common)
    return gr.Dropdown(_choices(name, lang), value=value, **common)


# ---------------------------------------------------------------- training stream

def _figures_for(snap, cfg, lang, seen: dict) -> list:
    """The five figures for this snapshot, with gr.skip() for the frozen base's two boundaries while
    LoRA trains: the large figures that stay the same for many frames.

    Nothing else is skipped: Gradio 6.31 keeps a copy of an output's component in the session for
    every skip that a value later follows (docs/benchmarks.md, soak), so small or changing outputs
    are cheaper to send again."""
    out = []
    if snap.base_probs is not seen.get("base"):
        seen["base"] = snap.base_probs
        out += figures.base_figures(snap, lang)
    else:
        out += [gr.skip(), gr.skip()]
    out.append(figures.lora_figure(snap, lang))  # changes every frame once adapting; a 6 KB placeholder before
    out.append(figures.loss_figure(snap, cfg, lang))
    out.append(figures.params_figure(snap, cfg, lang))  # about 1 KB
    return out


def _checked(values: dict) -> tuple[RunConfig, str]:
    """The validated config and language from a handler's raw arguments, or a gr.Error naming the setting."""
    values = dict(values)
    lang = values.pop("language")
    if lang not in LANGUAGES:
        raise gr.Error(f"language must be one of {', '.join(LANGUAGES)}; got {lang!r}", title="Invalid setting")
    try:
        return config_from_flat(values), lang
    except ConfigError as e:
        raise gr.Error(config_error_text(e, lang), title=t(lang, "err_invalid")) from None


def train_stream(dataset, n_samples, noise, n_classes, test_fraction, seed, shift_kind, angle, offset, factor,
                 shift_dataset, hidden_size, hidden_layers, rank, alpha, use_rslora, target_modules, init, lr,
                 pretrain_steps, adapt_steps, language="en"):
    """Train a base model, then LoRA; stream status, three boundaries, loss, parameters, results, metrics."""
    values = dict(locals())
    cfg, lang = _checked(values)
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
        raise gr.Error(str(e), title=t(lang, "err_stopped")) from None
    except Exception:  # never show a stack trace; keep serving
        log.exception("run failed for %s", values)
        raise gr.Error(t(lang, "err_internal")) from None


# ---------------------------------------------------------------- insights

INSIGHT_OUTPUTS = ("status", "m_full", "m_adapter", "m_lora", "m_table", "m_params", "sweep", "delta",
                   "strength_plot", "merge", "alpha", "memory")


def _methods_table(a, lang: str) -> str:
    w = lambda key, **f: t(lang, key, **f)  # noqa: E731
    names = {"full_finetune": w("m_full"), "adapter": w("adapter_after", m=a.adapter_bottleneck,
                                                         layer=a.adapter_layer), "lora": "LoRA"}
    rows = [f"| {w('col_method')} | {w('col_acc')} | {w('col_trainable')} | {w('col_final_loss')} |",
            "|---|---|---|---|"]
    for key, r in a.methods.items():
        rows.append(f"| {names[key]} | {100 * r.accuracy:.1f}% | {r.params.trainable:,} ({r.params.percent:.1f}%) "
                    f"| {r.final_train_loss:.4f} |")
    return "\n".join(rows)


def insights_stream(dataset, n_samples, noise, n_classes, test_fraction, seed, shift_kind, angle, offset, factor,
                    shift_dataset, hidden_size, hidden_layers, rank, alpha, use_rslora, target_modules, init, lr,
                    pretrain_steps, adapt_steps, language="en"):
    """Every Insights panel for these settings, streamed panel by panel."""
    cfg, lang = _checked(dict(locals()))
    from . import insight_plots, insights
    work = insights.relative_work(cfg)
    if work > insights.MAX_WORK:
        raise gr.Error(t(lang, "too_much_work", work=work, most=insights.MAX_WORK), title=t(lang, "err_invalid"))
    start = time.monotonic()
    steps = ["step_base", "step_methods", "step_sweep", "step_alpha", "step_rest"]
    built: dict = {}  # every panel made so far: the last update repeats them, so an API result is complete
    try:
        for name, a in insights.analyse(cfg):
            out = {}  # the panels this step makes; the others are skipped
            nxt = steps[steps.index(name) + 1] if name != steps[-1] else None
            out["status"] = (t(lang, "insights_busy", what=t(lang, nxt)) if nxt
                             else t(lang, "insights_done", seconds=time.monotonic() - start))
            if name == "step_methods":
                m = a.methods
                titles = {"full_finetune": t(lang, "m_full"), "adapter": t(lang, "m_adapter"), "lora": "LoRA"}
                for key, slot in (("full_finetune", "m_full"), ("adapter", "m_adapter"), ("lora", "m_lora")):
                    out[slot] = plots.boundary_figure(a.ticks, m[key].probs, a.target, titles[key], m[key].accuracy)
                out["m_table"] = _methods_table(a, lang)
                pretrain_count = {"trainable": a.base_params, "total": a.base_params}
                out["m_params"] = plots.params_figure(
                    {"pretrain": pretrain_count, **{k: r.params for k, r in m.items()}},
                    {"pretrain": t(lang, "m_pretrain"), "full_finetune": t(lang, "m_full"),
                     "adapter": t(lang, "m_adapter"), "lora": f"LoRA r={cfg.lora.rank}"}, lang=lang)
            elif name == "step_sweep":
                full = a.methods["full_finetune"]
                out["sweep"] = insight_plots.sweep_figure(a.sweep, full.accuracy, full.params.trainable, lang)
            elif name == "step_alpha":
                out["alpha"] = insight_plots.alpha_figure(a.alpha_runs, lang)
            elif name == "step_rest":
                out["delta"] = insight_plots.delta_figure(a.deltas, lang)
                out["strength_plot"] = insight_plots.strength_figure(a.ticks, a.target, a.strengths, lang)
                mg = a.merge
                out["merge"] = t(lang, "merge_table", f32=mg.max_abs_diff_float32, bf16=mg.max_abs_diff_bfloat16,
                                 bf16u=mg.max_abs_diff_bfloat16_unmerged, t_un=mg.seconds_unmerged * 1e6,
                                 t_m=mg.seconds_merged * 1e6, ratio=mg.seconds_merged / mg.seconds_unmerged,
                                 n=mg.repeats)
                out["memory"] = insight_plots.memory_figure(a.memory, lang)
            built.update(out)
            if name == steps[-1]:
                out = built
            yield tuple(out.get(k, gr.skip()) for k in INSIGHT_OUTPUTS)
    except Exception:  # never show a stack trace; keep serving
        log.exception("insights failed for %s", cfg)
        raise gr.Error(t(lang, "err_internal")) from None


# ---------------------------------------------------------------- links, presets, language

def _parse_query_value(name: str, text: str):
    """A query-string value as the type its setting wants; anything unparsable is left for validation to reject."""
    rule = rule_of(name)
    if isinstance(rule, Num):
        try:
            v = float(text)
        except ValueError:
            return text
        return int(v) if rule.integer and v.is_integer() else v
    if isinstance(rule, Flag):
        return {"1": True, "true": True, "yes": True, "on": True,
                "0": False, "false": False, "no": False, "off": False}.get(text.lower(), text)
    return text  # choices as they are; layers as "fc1,fc2"


def settings_from_query(query: dict) -> tuple[dict, list[str]]:
    """Settings found in a URL query (valid ones only) and one message per rejected one."""
    found, problems = {}, []
    for name in FLAT_FIELDS:
        if name not in query:
            continue
        value = _parse_query_value(name, query[name])
        try:
            config_from_flat({name: value})
            found[name] = value
        except ConfigError as e:
            problems.append(config_error_text(e, query.get("lang", "en")))
    try:
        config_from_flat({**DEFAULTS, **found})
    except ConfigError as e:  # e.g. target layers the chosen depth does not have
        problems.append(config_error_text(e, query.get("lang", "en")))
        found.pop("target_modules", None)
    return found, problems


def query_from_settings(values: dict, lang: str) -> str:
    """The URL query that restores these settings: every setting, plus the language."""
    cleaned = {}
    for name, value in values.items():
        if isinstance(value, (list, tuple)):
            value = ",".join(value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, float) and value.is_integer():
            value = int(value)
        cleaned[name] = value
    return "?" + urlencode({**cleaned, "lang": lang})


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
"""


# show_error: Gradio's own checks (e.g. too few values from a raw HTTP client) then say what is wrong;
# our handler turns every exception into a gr.Error itself, so no stack trace can reach anyone.
# state_session_capacity: Gradio keeps per-session copies of components; remembering the last 1,000
# sessions (not 10,000) bounds that memory on a long-running workshop server.
LAUNCH_KWARGS = dict(theme=gr.themes.Soft(), css=CSS, footer_links=["api"], run_history=False, show_error=True,
                     state_session_capacity=1000)


def build_demo() -> gr.Blocks:
    lang0 = "en"
    with gr.Blocks(title="LoRA Playground") as demo:
        with gr.Row():
            intro = gr.Markdown(t(lang0, "intro"))
            language = gr.Radio([(v, k) for k, v in LANGUAGES.items()], value=lang0, label=t(lang0, "language"),
                                elem_id="language", scale=0, min_width=180)
        widgets, accordions = {}, {}
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=300):
                with gr.Row():
                    train_btn = gr.Button(t(lang0, "train"), variant="primary", elem_id="train")
                    stop_btn = gr.Button(t(lang0, "stop"), variant="stop", elem_id="stop")
                for key, names in GROUPS:
                    with gr.Accordion(t(lang0, key), open=key in ("group_shift", "group_lora")) as acc:
                        for name in names:
                            widgets[name] = _component(name, DEFAULTS[name], lang0)
                    accordions[key] = acc
                with gr.Accordion(t(lang0, "share"), open=False) as share_acc:
                    share_btn = gr.Button(t(lang0, "share"), size="sm", elem_id="share")
                    link_box = gr.Textbox(label=t(lang0, "share_box"), elem_id="share-link", buttons=["copy"],
                                          interactive=False)
            with gr.Column(scale=3):
                with gr.Tabs():
                    with gr.Tab(t(lang0, "tab_train"), id="train-tab", elem_id="tab-train") as train_tab:
                        presets_md = gr.Markdown(f"**{t(lang0, 'presets')}**")
                        with gr.Row():
                            preset_btns = {k: gr.Button(p.title[lang0], size="sm", elem_id=f"preset-{k}")
                                           for k, p in PRESETS.items()}
                        lesson = gr.Markdown("", elem_id="lesson")
                        status = gr.Markdown(t(lang0, "ready"), elem_id="status")
                        with gr.Row():
                            b_src = gr.Plot(show_label=False, elem_id="plot-base-source")
                            b_tgt = gr.Plot(show_label=False, elem_id="plot-base-target")
                            b_lora = gr.Plot(show_label=False, elem_id="plot-lora-target")
                        cap_b = gr.Markdown(t(lang0, "cap_boundaries"), elem_classes="caption")
                        with gr.Row():
                            with gr.Column(scale=3):
                                loss = gr.Plot(show_label=False, elem_id="plot-loss")
                                cap_l = gr.Markdown(t(lang0, "cap_loss"), elem_classes="caption")
                            with gr.Column(scale=2):
                                params = gr.Plot(show_label=False, elem_id="plot-params")
                                cap_p = gr.Markdown(t(lang0, "cap_params"), elem_classes="caption")
                        results = gr.Markdown(elem_id="results")
                        with gr.Row():
                            export_file = gr.File(label=t(lang0, "export_file"), elem_id="export", scale=2)
                            export_code = gr.Code(language="python", label=t(lang0, "export_code"),
                                                  elem_id="peft-code", scale=3, interactive=False)
                        with gr.Accordion(t(lang0, "metrics_json"), open=False) as metrics_acc:
                            metrics = gr.JSON(elem_id="metrics", show_label=False)
                    with gr.Tab(t(lang0, "tab_insights"), id="insights-tab", elem_id="tab-insights") as ins_tab:
                        ins_texts = {"insights_intro": gr.Markdown(t(lang0, "insights_intro"))}
                        ins_btn = gr.Button(t(lang0, "run_insights"), variant="primary", elem_id="insights-run")
                        ins_status = gr.Markdown(t(lang0, "insights_ready"), elem_id="insights-status")
                        ins = {}
                        ins_texts["h_methods"] = gr.Markdown(t(lang0, "h_methods"))
                        with gr.Row():
                            ins["m_full"] = gr.Plot(show_label=False, elem_id="plot-m-full")
                            ins["m_adapter"] = gr.Plot(show_label=False, elem_id="plot-m-adapter")
                            ins["m_lora"] = gr.Plot(show_label=False, elem_id="plot-m-lora")
                        with gr.Row():
                            ins["m_table"] = gr.Markdown(elem_id="methods-table")
                            ins["m_params"] = gr.Plot(show_label=False, elem_id="plot-m-params")
                        ins_texts["cap_methods"] = gr.Markdown(t(lang0, "cap_methods"), elem_classes="caption")
                        for key, plot_id in (("sweep", "plot-sweep"), ("delta", "plot-delta")):
                            ins_texts["h_" + key] = gr.Markdown(t(lang0, "h_" + key))
                            ins[key] = gr.Plot(show_label=False, elem_id=plot_id)
                            ins_texts["cap_" + key] = gr.Markdown(t(lang0, "cap_" + key), elem_classes="caption")
                        ins_texts["h_merge"] = gr.Markdown(t(lang0, "h_merge"))
                        with gr.Row():
                            ins["strength_plot"] = gr.Plot(show_label=False, elem_id="plot-strength")
                            ins["merge"] = gr.Markdown(elem_id="merge-table")
                        ins_texts["cap_merge"] = gr.Markdown(t(lang0, "cap_merge"), elem_classes="caption")
                        for key, plot_id in (("alpha", "plot-alpha"), ("memory", "plot-memory")):
                            ins_texts["h_" + key] = gr.Markdown(t(lang0, "h_" + key))
                            ins[key] = gr.Plot(show_label=False, elem_id=plot_id)
                            ins_texts["cap_" + key] = gr.Markdown(t(lang0, "cap_" + key), elem_classes="caption")
                        ins["status"] = ins_status
        for name in SHIFT_FIELDS.values():
            widgets[name].visible = SHIFT_FIELDS.get(DEFAULTS["shift_kind"]) == name

        inputs = [widgets[name] for name in FLAT_FIELDS] + [language]
        outputs = [status, b_src, b_tgt, b_lora, loss, params, results, export_file, export_code, metrics]
        setting_widgets = [widgets[name] for name in FLAT_FIELDS]
        train_kwargs = dict(concurrency_limit=CONCURRENCY, concurrency_id="train", show_progress="minimal",
                            show_progress_on=[status], preprocess=False)  # raw values: train_stream checks each
        runs = [train_btn.click(train_stream, inputs, outputs, api_name="train", **train_kwargs)]

        # presets: set every control, show the lesson, then train
        for key, btn in preset_btns.items():
            def apply_preset(lang, key=key):
                values = {**DEFAULTS, **PRESETS[key].settings}
                preset = PRESETS[key]
                return [values[n] for n in FLAT_FIELDS] + [f"**{preset.title[lang]}.** {preset.lesson[lang]}"]
            runs.append(btn.click(apply_preset, language, setting_widgets + [lesson], queue=False,
                                  api_visibility="private")
                        .then(train_stream, inputs, outputs, api_visibility="private", **train_kwargs))
        stop_btn.click(None, None, None, cancels=runs, api_visibility="private")

        # insights: every panel for the current settings (the strength slider lives inside its figure)
        ins_btn.click(insights_stream, inputs, [ins[k] for k in INSIGHT_OUTPUTS], api_name="insights",
                      concurrency_limit=2, concurrency_id="insights", show_progress="minimal",
                      show_progress_on=[ins_status], preprocess=False)

        # language: every label, help text, choice, caption and button
        def apply_language(lang):
            updates = [t(lang, "intro"), gr.update(label=t(lang, "language")), t(lang, "train"), t(lang, "stop")]
            updates += [gr.update(label=t(lang, key)) for key, _ in GROUPS]
            for name in FLAT_FIELDS:
                label, info = field_text(lang, name)
                extra = {"choices": _choices(name, lang)} if name in ("shift_kind", "init", "dataset",
                                                                       "shift_dataset") else {}
                updates.append(gr.update(label=label, info=info, **extra))
            updates += [gr.update(label=t(lang, "share")), t(lang, "share"), gr.update(label=t(lang, "share_box")),
                        f"**{t(lang, 'presets')}**", *[p.title[lang] for p in PRESETS.values()],
                        t(lang, "cap_boundaries"), t(lang, "cap_loss"), t(lang, "cap_params"),
                        gr.update(label=t(lang, "metrics_json"))]
            updates += [gr.update(label=t(lang, "tab_train")), gr.update(label=t(lang, "tab_insights")),
                        t(lang, "run_insights")]
            updates += [t(lang, key) for key in ins_texts]
            updates += [gr.update(label=t(lang, "export_file")), gr.update(label=t(lang, "export_code"))]
            return updates
        lang_targets = [intro, language, train_btn, stop_btn, *accordions.values(), *setting_widgets, share_acc,
                        share_btn, link_box, presets_md, *preset_btns.values(), cap_b, cap_l, cap_p, metrics_acc,
                        train_tab, ins_tab, ins_btn, *ins_texts.values(), export_file, export_code]
        language.change(apply_language, language, lang_targets, queue=False, api_visibility="private")

        # shareable link: the server writes the query, the browser adds its own address and copies it
        def make_query(*values):
            *settings, lang = values
            return query_from_settings(dict(zip(FLAT_FIELDS, settings)), lang if lang in LANGUAGES else "en")
        share_btn.click(make_query, inputs, link_box, queue=False, api_visibility="private").then(
            None, link_box, link_box, js=SHARE_JS)

        # opening a link: restore its settings and language, then train if it says run=1
        def apply_query(request: gr.Request):
            query = dict(request.query_params) if request else {}
            found, problems = settings_from_query(query)
            for p in problems:
                gr.Warning(p)
            lang = query.get("lang") if query.get("lang") in LANGUAGES else "en"
            return [found.get(n, gr.skip()) for n in FLAT_FIELDS] + [lang]
        demo.load(apply_query, None, setting_widgets + [language], queue=False, api_visibility="private").then(
            None, None, None, js=AUTORUN_JS)

        # keep the controls consistent with each other
        def show_shift_fields(kind):
            return [gr.update(visible=SHIFT_FIELDS.get(kind) == name) for name in SHIFT_FIELDS.values()]
        widgets["shift_kind"].change(show_shift_fields, widgets["shift_kind"],
                                     [widgets[n] for n in SHIFT_FIELDS.values()], queue=False,
                                     api_visibility="private")

        def layer_choices(hidden_layers, targets):
            try:
                names = [f"fc{i}" for i in range(1, int(hidden_layers) + 2)]
            except (TypeError, ValueError):
                return gr.skip()
            return gr.update(choices=names, value=[x for x in (targets or []) if x in names] or ["fc1"])
        widgets["hidden_layers"].change(layer_choices, [widgets["hidden_layers"], widgets["target_modules"]],
                                        widgets["target_modules"], queue=False, api_visibility="private")
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE, api_open=False)
    return demo


def warm_up() -> None:
    """One tiny run through the handler, so that the first visitor does not pay for lazy imports."""
    for _ in train_stream(**dict(DEFAULTS, n_samples=40, pretrain_steps=10, adapt_steps=10)):
        pass


def launch(**kwargs) -> gr.Blocks:
    """Start the app; GRADIO_SERVER_NAME / GRADIO_SERVER_PORT are honoured by Gradio itself."""
    import torch
    torch.set_num_threads(1)  # concurrent runs share the cores instead of fighting over them
    warm_up()
    demo = build_demo()
    demo.launch(**{**LAUNCH_KWARGS, **kwargs})
    return demo
