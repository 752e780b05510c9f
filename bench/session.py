"""What a new session costs the web process: Gradio's SessionState for the app's page, with and without the
shortcuts of lora_demo.ui.session_cost, in one run (CPU time, best of 5 rounds of 20 sessions).

    python -m bench.session [--json]
"""
from __future__ import annotations

import argparse
import json
import sys
import time


def per_session_ms(demo, rounds: int = 5, n: int = 20) -> float:
    from gradio.state_holder import SessionState
    best = float("inf")
    for _ in range(rounds):
        t = time.process_time()
        for _ in range(n):
            SessionState(demo)
        best = min(best, (time.process_time() - t) / n)
    return best * 1e3


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.session", description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    import torch
    torch.set_num_threads(1)
    from lora_demo.ui import build_demo, close, session_cost
    demo = build_demo()
    try:
        for block in demo.blocks.values():  # undo the shortcuts build_demo applied, to measure without them
            for cls in type(block).__mro__:
                init = cls.__dict__.get("__init__")
                if init is not None and "__signature__" in getattr(init, "__dict__", {}):
                    del init.__signature__
        if sys.modules.get("bokeh", 0) is None:
            del sys.modules["bokeh"]
        without = per_session_ms(demo)
        session_cost.cheaper_sessions(demo)
        with_ = per_session_ms(demo)
    finally:
        close(demo)
    out = {"blocks": len(demo.blocks), "without_ms": without, "with_ms": with_, "ratio": with_ / without}
    if a.json:
        print(json.dumps(out))
        return
    print(f"a new session's set-up, {out['blocks']} blocks: {without:.1f} ms without the shortcuts, "
          f"{with_:.1f} ms with them (ratio {out['ratio']:.2f})")


if __name__ == "__main__":
    main()
