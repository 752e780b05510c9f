"""LoRA Playground: `python app.py` (or `gradio app.py`, which reloads on edits), then open http://127.0.0.1:7860.

Each build of the page starts its own worker processes. `gradio app.py` reloads by running this file again in
the same namespace, so the page it replaces is still here as `demo`: its workers are stopped before the new
page starts its own (Gradio keeps references to a replaced page, so waiting for it to be dropped is not enough).
"""
import os

if os.environ.get("SPACES_ZERO_GPU", "").lower() in ("1", "true"):
    import spaces  # noqa: F401  on a ZeroGPU Space, before anything imports torch (the package patches it)

from lora_demo.ui import build_demo, launch

_replaced = globals().get("demo")
if _replaced is not None and hasattr(_replaced, "services"):
    _replaced.services.scheduler.pool.close()
demo = build_demo()

if __name__ == "__main__":
    launch(demo)
