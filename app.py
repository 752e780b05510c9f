"""LoRA Playground: `python app.py` (or `gradio app.py`, which reloads on edits), then open http://127.0.0.1:7860.

Each build of the page starts its own worker processes; under `gradio app.py` a reload builds a new page,
and the replaced page's workers stop when it is dropped.
"""
import os

if os.environ.get("SPACES_ZERO_GPU", "").lower() in ("1", "true"):
    import spaces  # noqa: F401  on a ZeroGPU Space, before anything imports torch (the package patches it)

from lora_demo.ui import build_demo, launch

demo = build_demo()

if __name__ == "__main__":
    launch(demo)
