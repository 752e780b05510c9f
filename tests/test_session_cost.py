"""Gradio's per-session set-up, made cheaper: the same configs as without the shortcuts, and bokeh still absent."""
import copy
import importlib
import inspect
import sys

import gradio as gr
import pytest
from gradio.state_holder import SessionState

from lora_demo.ui import session_cost


def page():
    with gr.Blocks() as demo:
        with gr.Row():
            gr.Markdown("a")
            box = gr.Number(3, label="n")
        gr.Plot(label="p")
        gr.Button("go").click(lambda x: x, box, box)
    return demo


def test_sessions_get_the_same_configs_and_bokeh_still_fails_to_import(monkeypatch):
    if "bokeh" in sys.modules:  # restored after the test, whatever it was
        monkeypatch.setitem(sys.modules, "bokeh", sys.modules["bokeh"])
    else:
        monkeypatch.delitem(sys.modules, "bokeh", raising=False)
    before = copy.deepcopy(SessionState(page()).config_values)
    demo = page()
    assert session_cost.remember_signatures(demo.blocks.values()) >= 0
    session_cost.fail_fast_on_missing_bokeh()
    after = SessionState(demo).config_values
    strip = lambda cfgs: [{k: v for k, v in c.items() if k != "id"} for c in cfgs.values()]  # noqa: E731
    assert strip(after) == strip(before)
    if importlib.util.find_spec("bokeh") is None or sys.modules.get("bokeh", 0) is None:
        with pytest.raises(ImportError):
            import bokeh  # noqa: F401


def test_a_stored_signature_is_the_one_inspect_computes():
    class Base:
        def __init__(self, value=1, *, label="w"):
            self.value, self.label = value, label

    class Widget(Base):  # a plain class: a gradio subclass defined here would write a .pyi stub beside the test
        def __init__(self, value=1, *, label="w", extra: int = 2):
            super().__init__(value, label=label)
    fresh = [inspect.signature(c.__init__) for c in (Widget, Base)]
    assert session_cost.remember_signatures([Widget()]) == 2
    assert [vars(c.__init__)["__signature__"] for c in (Widget, Base)] == fresh
    assert session_cost.remember_signatures([Widget()]) == 0  # stored once
