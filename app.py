"""LoRA Playground: `python app.py`, then open http://127.0.0.1:7860."""
from lora_demo.ui import launch

if __name__ == "__main__":
    launch()
