"""The web app: controls, the streaming /train handler and the layout. The only module that imports gradio."""
from __future__ import annotations

import logging
import time

import gradio as gr
import plotly.graph_objects as go

from . import plots, report
from .config import (DATASET_NAMES, FLAT_FIELDS, INIT_NAMES, SHIFT_KINDS, ConfigError, Num, RunConfig,
                     config_from_flat, flat_from_config, rule_of)
from .train import RunTooLong, TrainingDiverged, run

log = logging.getLogger("lora_demo")

UPDATE_GAP = 0.25      # seconds between two streamed updates: faster makes the page lag
FRAMES = 5             # step-based snapshots per run, on top of start, phase change and end
RUN_SECONDS = 30.0     # one request's training budget
CONCURRENCY = 4        # runs at once; each uses one torch thread and sleeps between updates
QUEUE_SIZE = 64        # waiting requests beyond this are told the queue is full

DEFAULTS = flat_from_config(RunConfig())

LABELS = {
    "dataset": ("Dataset", "scikit-learn generator for the source task"),
    "n_samples": ("Samples", "points per task (train + test)"),
    "noise": ("Noise", "jitter of the points (label flips for classification)"),
    "n_classes": ("Classes", "for blobs, gaussian quantiles and classification"),
    "test_fraction": ("Test fraction", "held out: hollow points, dotted curves"),
    "seed": ("Seed", "same seed, same run: data, split and initial weights"),
    "shift_kind": ("Shift", "how the target task differs from the source"),
    "angle": ("Angle (°)", "rotate the target's points about the centre"),
    "offset": ("Offset", "move the target's points along x (standardised units)"),
    "factor": ("Factor", "stretch (>1) or shrink (<1) the target's points"),
    "shift_dataset": ("Target dataset", "a different problem altogether"),
    "hidden_size": ("Hidden width", "neurons in each hidden layer"),
    "hidden_layers": ("Hidden layers", "1 = the seed article's fc1 → ReLU → fc2"),
    "rank": ("Rank r", "A is r × d_in, B is d_out × r: trainable = r·(d_in + d_out) per layer"),
    "alpha": ("Alpha α", "ΔW is scaled by α/r; PEFT calls it lora_alpha"),
    "use_rslora": ("rsLoRA", "scale by α/√r instead of α/r"),
    "target_modules": ("Target layers", "layers that get an adapter; every base weight stays frozen"),
    "init": ("Init of A", "B always starts at 0, so a fresh adapter changes nothing"),
    "lr": ("Learning rate", "Adam, full batch, both phases"),
    "pretrain_steps": ("Pretraining steps", "phase 1: all weights, source task"),
    "adapt_steps": ("LoRA steps", "phase 2: only A and B, target task"),
}
CHOICE_LABELS = {
    "shift_kind": {"rotate": "rotate", "translate": "translate", "scale": "scale",
                   "dataset": "other dataset", "none": "none (same task)"},
    "init": {"peft": "PEFT default", "seed": "seed article", "gaussian": "gaussian"},
    "dataset": {n: n.replace("_", " ") for n in DATASET_NAMES},
    "shift_dataset": {n: n.replace("_", " ") for n in DATASET_NAMES},
}
SLIDER_STEPS = {"n_samples": 20, "noise": 0.01, "n_classes": 1, "test_fraction": 0.05, "angle": 5,
                "offset": 0.1, "factor": 0.1, "hidden_size": 2, "hidden_layers": 1, "rank": 1,
                "pretrain_steps": 10, "adapt_steps": 10}
SHIFT_FIELDS = {"rotate": "angle", "translate": "offset", "scale": "factor", "dataset": "shift_dataset"}

INTRO = """# LoRA Playground
A small network learns a toy task, then the task **shifts**. Instead of retraining it, we freeze every weight
and train a tiny **LoRA** adapter, ΔW = (α/r)·B·A with B starting at zero. Press **Train** and watch the
boundary bend back into place."""

CAPTIONS = {
    "boundaries": "Shading is the model's belief about the class at each point (pale = unsure). Filled dots are "
                  "training points, hollow dots test points. Left: the pretrained base on its own task. Middle: the "
                  "same frozen base on the shifted task. Right: base + LoRA on the shifted task.",
    "loss": "Grey: pretraining every weight on the source task. Pink: only A and B train on the target; the jump "
            "at the dashed line is the base model meeting the new task.",
    "params": "How many numbers each approach trains. LoRA trains A and B only; all params = base + adapter, "
              "as PEFT's print_trainable_parameters() counts them.",
}


def _component(name: str, value):
    label, info = LABELS[name]
    rule = rule_of(name)
    elem_id = name.replace("_", "-")
    if isinstance(rule, Num):
        if name in SLIDER_STEPS:
            return gr.Slider(rule.lo, rule.hi, value=value, step=SLIDER_STEPS[name], label=label, info=info,
                             elem_id=elem_id, precision=0 if rule.integer else None)
        return gr.Number(value=value, label=label, info=info, elem_id=elem_id, minimum=rule.lo, maximum=rule.hi,
                         precision=0 if rule.integer else None)
    if name == "use_rslora":
        return gr.Checkbox(value=value, label=label, info=info, elem_id=elem_id)
    if name == "target_modules":
        return gr.CheckboxGroup(list(rule.choices), value=list(value), label=label, info=info, elem_id=elem_id)
    names = CHOICE_LABELS.get(name, {})
    choices = [(names.get(c, c), c) for c in rule.choices]
    if name in ("shift_kind", "init"):
        return gr.Radio(choices, value=value, label=label, info=info, elem_id=elem_id)
    return gr.Dropdown(choices, value=value, label=label, info=info, elem_id=elem_id)


def _lora_placeholder(snap) -> go.Figure:
    return plots.boundary_figure(snap.ticks, None, snap.target, "Base + LoRA on target",
                                 note="starts after pretraining")


def train_stream(dataset, n_samples, noise, n_classes, test_fraction, seed, shift_kind, angle, offset, factor,
                 shift_dataset, hidden_size, hidden_layers, rank, alpha, use_rslora, target_modules, init, lr,
                 pretrain_steps, adapt_steps):
    """Train a base model, then LoRA; stream status, three boundaries, loss, parameters, results, metrics."""
    values = dict(locals())
    try:
        cfg = config_from_flat(values)
    except ConfigError as e:
        flat = next((k for k, v in FLAT_FIELDS.items() if ".".join(v) == e.field), None)
        label = f"{LABELS[flat][0]}: " if flat else ""
        raise gr.Error(f"{label}{e}", title="Invalid setting") from None
    total = cfg.train.pretrain_steps + cfg.train.adapt_steps
    seen_base = seen_lora = None
    seen_params = 0
    sent = 0.0
    try:
        for snap in run(cfg, every_steps=max(1, total // FRAMES), every_seconds=2 * UPDATE_GAP,
                        max_snapshots=40, max_seconds=RUN_SECONDS):
            out = [report.status_line(snap, cfg)]
            if snap.done:  # the last update carries every figure, so an API caller's result is complete
                seen_base = seen_lora = None
                seen_params = 0
            if snap.base_probs is not seen_base:
                seen_base = snap.base_probs
                acc = snap.accuracy
                out += [plots.boundary_figure(snap.ticks, snap.base_probs, snap.source, "Base on source",
                                              acc.get("base_source")),
                        plots.boundary_figure(snap.ticks, snap.base_probs, snap.target, "Base on target",
                                              acc.get("base_target"))]
            else:
                out += [gr.skip(), gr.skip()]
            if snap.lora_probs is None:
                out.append(_lora_placeholder(snap) if seen_lora is None else gr.skip())
                seen_lora = False
            elif snap.lora_probs is not seen_lora:
                seen_lora = snap.lora_probs
                out.append(plots.boundary_figure(snap.ticks, snap.lora_probs, snap.target, "Base + LoRA on target",
                                                 snap.accuracy.get("lora_target")))
            else:
                out.append(gr.skip())
            out.append(plots.loss_figure(snap.curves, cfg.train.pretrain_steps))
            if len(snap.params) != seen_params:
                seen_params = len(snap.params)
                out.append(plots.params_figure(snap.params, {
                    "pretrain": "pretraining", "full_finetune": "full fine-tuning", "lora": f"LoRA r={cfg.lora.rank}"}))
            else:
                out.append(gr.skip())
            if snap.done:
                out += [report.results_markdown(snap, cfg), report.metrics(snap, cfg)]
            else:
                out += ["" if sent == 0 else gr.skip(), None if sent == 0 else gr.skip()]
                wait = UPDATE_GAP - (time.monotonic() - sent)
                if sent and wait > 0:
                    time.sleep(wait)  # pace the animation; costs no CPU
            sent = time.monotonic()
            yield tuple(out)
    except (TrainingDiverged, RunTooLong) as e:
        raise gr.Error(str(e), title="Training stopped") from None
    except Exception:  # never show a stack trace; keep serving
        log.exception("run failed for %s", values)
        raise gr.Error("Something went wrong in this run; the server is fine. Try other settings.") from None


def _show_shift_fields(kind):
    return [gr.update(visible=(SHIFT_FIELDS.get(kind) == name)) for name in SHIFT_FIELDS.values()]


def _layer_choices(hidden_layers, targets):
    try:
        n = int(hidden_layers) + 1
    except (TypeError, ValueError):
        return gr.skip()
    names = [f"fc{i}" for i in range(1, n + 1)]
    kept = [t for t in (targets or []) if t in names] or ["fc1"]
    return gr.update(choices=names, value=kept)


THEME = gr.themes.Soft()
CSS = """
#status {min-height: 2.6em}
.caption p {font-size: 0.85em; color: #6b7280; margin: 0}
#train {min-width: 0}
footer {display: none !important}
"""


def build_demo() -> gr.Blocks:
    with gr.Blocks(title="LoRA Playground") as demo:
        gr.Markdown(INTRO)
        widgets = {}
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=300):
                with gr.Row():
                    train_btn = gr.Button("Train", variant="primary", elem_id="train")
                    stop_btn = gr.Button("Stop", variant="stop", elem_id="stop")
                groups = [("1 · Data", ["dataset", "n_samples", "noise", "n_classes", "test_fraction", "seed"]),
                          ("2 · Shift", ["shift_kind", *SHIFT_FIELDS.values()]),
                          ("3 · LoRA", ["rank", "alpha", "use_rslora", "target_modules", "init"]),
                          ("4 · Model and training", ["hidden_size", "hidden_layers", "lr", "pretrain_steps",
                                                      "adapt_steps"])]
                for title, names in groups:
                    with gr.Accordion(title, open=title[0] in "23"):
                        for name in names:
                            widgets[name] = _component(name, DEFAULTS[name])
            with gr.Column(scale=3):
                status = gr.Markdown("Press **Train** to start.", elem_id="status")
                with gr.Row():
                    b_src = gr.Plot(show_label=False, elem_id="plot-base-source")
                    b_tgt = gr.Plot(show_label=False, elem_id="plot-base-target")
                    b_lora = gr.Plot(show_label=False, elem_id="plot-lora-target")
                gr.Markdown(CAPTIONS["boundaries"], elem_classes="caption")
                with gr.Row():
                    with gr.Column(scale=3):
                        loss = gr.Plot(show_label=False, elem_id="plot-loss")
                        gr.Markdown(CAPTIONS["loss"], elem_classes="caption")
                    with gr.Column(scale=2):
                        params = gr.Plot(show_label=False, elem_id="plot-params")
                        gr.Markdown(CAPTIONS["params"], elem_classes="caption")
                results = gr.Markdown(elem_id="results")
                with gr.Accordion("Metrics as JSON (what the /train API returns)", open=False):
                    metrics = gr.JSON(elem_id="metrics", show_label=False)
        for name in SHIFT_FIELDS.values():
            widgets[name].visible = SHIFT_FIELDS.get(DEFAULTS["shift_kind"]) == name
        inputs = [widgets[name] for name in FLAT_FIELDS]
        outputs = [status, b_src, b_tgt, b_lora, loss, params, results, metrics]
        event = train_btn.click(train_stream, inputs, outputs, api_name="train", concurrency_limit=CONCURRENCY,
                                concurrency_id="train", show_progress="minimal", show_progress_on=[status],
                                preprocess=False)  # raw values reach train_stream, which checks every one
        stop_btn.click(None, None, None, cancels=[event], api_visibility="private")
        widgets["shift_kind"].change(_show_shift_fields, widgets["shift_kind"],
                                     [widgets[n] for n in SHIFT_FIELDS.values()], api_visibility="private",
                                     queue=False)
        widgets["hidden_layers"].change(_layer_choices, [widgets["hidden_layers"], widgets["target_modules"]],
                                        widgets["target_modules"], api_visibility="private", queue=False)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE, api_open=False)
    return demo


def warm_up() -> None:
    """One tiny run through the handler, so that the first visitor does not pay for lazy imports."""
    small = dict(DEFAULTS, n_samples=40, pretrain_steps=10, adapt_steps=10)
    for _ in train_stream(**small):
        pass


def launch(**kwargs) -> gr.Blocks:
    """Start the app; GRADIO_SERVER_NAME / GRADIO_SERVER_PORT are honoured by Gradio itself."""
    import torch
    torch.set_num_threads(1)  # concurrent runs share the cores instead of fighting over them
    warm_up()
    demo = build_demo()
    demo.launch(theme=THEME, css=CSS, footer_links=["api"], run_history=False, **kwargs)
    return demo
