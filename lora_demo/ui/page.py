"""What every tab shares while the page is built: the settings controls, and the texts to redo when the
language changes. The only gradio imports live in lora_demo.ui."""
from __future__ import annotations

from typing import Callable

import gradio as gr
from gradio.components.plot import PlotData

from ..config import FLAT_FIELDS, Flag, Layers, Num, RunConfig, flat_from_config, rule_of
from ..plots import encode
from ..text import choice_text, field_text, t

DEFAULTS = flat_from_config(RunConfig())
SLIDER_STEPS = {"n_samples": 20, "noise": 0.01, "n_classes": 1, "test_fraction": 0.05, "angle": 5,
                "offset": 0.1, "factor": 0.1, "hidden_size": 2, "hidden_layers": 1, "rank": 1,
                "pretrain_steps": 10, "adapt_steps": 10}
SHIFT_FIELDS = {"rotate": "angle", "translate": "offset", "scale": "factor", "dataset": "shift_dataset"}
GROUPS = [("group_data", ["dataset", "n_samples", "noise", "n_classes", "test_fraction", "seed"]),
          ("group_shift", ["shift_kind", *SHIFT_FIELDS.values()]),
          ("group_lora", ["rank", "alpha", "use_rslora", "target_modules", "init"]),
          ("group_model", ["hidden_size", "hidden_layers", "lr", "pretrain_steps", "adapt_steps"])]
RADIOS = ("shift_kind", "init")
TRANSLATED_CHOICES = ("shift_kind", "init", "dataset", "shift_dataset")


def layer_names(hidden_layers: int) -> list[str]:
    """fc1 … fc(hidden_layers + 1): the layers a model of that depth has."""
    return [f"fc{i}" for i in range(1, hidden_layers + 2)]


def plot(fig: dict | None) -> PlotData | None:
    """A figure dict as gr.Plot's own payload: serialised once, no Plotly validation."""
    return None if fig is None else PlotData(type="plotly", plot=encode.dumps(fig))


def choices(name: str, lang: str) -> list[tuple[str, str]]:
    return [(choice_text(lang, name, c), c) for c in rule_of(name).choices]


def setting_component(name: str, value, lang: str = "en"):
    """The control for one setting, with its bounds and choices read from the setting's rule."""
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
    if isinstance(rule, Layers):  # the layers the default depth has; a depth change updates them
        return gr.CheckboxGroup(layer_names(DEFAULTS["hidden_layers"]), value=list(value), **common)
    if name in RADIOS:
        return gr.Radio(choices(name, lang), value=value, **common)
    return gr.Dropdown(choices(name, lang), value=value, **common)


class Page:
    """Collects, while the tabs are built, every component whose text depends on the language.

    `words(component, key)` registers a component whose value is t(lang, key); `label(component, key)` one
    whose label is; `custom(component, fn)` one updated by fn(lang). `language_updates(lang)` then gives
    one update per registered component, in order."""

    def __init__(self, lang: str = "en"):
        self.lang = lang
        self._texts: list[tuple[object, Callable[[str], object]]] = []
        self.settings: dict = {}      # flat setting name -> its control
        self.language = None          # the language radio

    def custom(self, component, fn: Callable[[str], object]):
        self._texts.append((component, fn))
        return component

    def words(self, component, key: str, wrap: Callable[[str], str] = lambda s: s):
        return self.custom(component, lambda lang: wrap(t(lang, key)))

    def label(self, component, key: str):
        return self.custom(component, lambda lang: gr.update(label=t(lang, key)))

    def markdown(self, key: str, wrap: Callable[[str], str] = lambda s: s, **kwargs) -> gr.Markdown:
        return self.words(gr.Markdown(wrap(t(self.lang, key)), **kwargs), key, wrap)

    def caption(self, key: str) -> gr.Markdown:
        return self.markdown(key, elem_classes="caption")

    def targets(self) -> list:
        return [c for c, _ in self._texts]

    def language_updates(self, lang: str) -> list:
        return [fn(lang) for _, fn in self._texts]

    @property
    def inputs(self) -> list:
        """Every setting in FLAT_FIELDS order, then the language: what each run handler takes."""
        return [self.settings[name] for name in FLAT_FIELDS] + [self.language]

    def add_settings(self) -> None:
        """The grouped settings controls (inside the current column)."""
        for key, names in GROUPS:
            with gr.Accordion(t(self.lang, key), open=key in ("group_shift", "group_lora")) as acc:
                for name in names:
                    self.settings[name] = setting_component(name, DEFAULTS[name], self.lang)
            self.label(acc, key)
        for name in SHIFT_FIELDS.values():
            self.settings[name].visible = SHIFT_FIELDS.get(DEFAULTS["shift_kind"]) == name
        for name in FLAT_FIELDS:
            def update(lang, name=name):
                label, info = field_text(lang, name)
                extra = {"choices": choices(name, lang)} if name in TRANSLATED_CHOICES else {}
                return gr.update(label=label, info=info, **extra)
            self.custom(self.settings[name], update)
