"""LoRA Playground: `python app.py` (or `gradio app.py`, which reloads on edits), then open http://127.0.0.1:7860."""
import os

if os.environ.get("SPACES_ZERO_GPU", "").lower() in ("1", "true"):
    import spaces  # noqa: F401  on a ZeroGPU Space, before anything imports torch (the package patches it)

import gradio as gr

from lora_demo.ui import build_demo, launch, make_services

if gr.NO_RELOAD:  # start the worker processes once, not again on every hot reload
    services = make_services()
demo = build_demo(services)

if __name__ == "__main__":
    launch(demo)
