"""app.py as `gradio app.py` runs it: a reload executes the file again in the same namespace, and the page it
replaces must stop its worker processes (they would otherwise pile up, two per edit)."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_running_app_py_again_stops_the_replaced_pages_workers():
    source = (ROOT / "app.py").read_text()
    namespace = {"__name__": "app"}  # not __main__: nothing is launched
    exec(compile(source, "app.py", "exec"), namespace)
    first = namespace["demo"]
    try:
        assert first.services.scheduler.pool.wait_ready(180)
        first_pids = first.services.scheduler.pool.stats()["pids"]
        assert first_pids
        exec(compile(source, "app.py", "exec"), namespace)  # the reload
        second = namespace["demo"]
        assert second is not first
        assert first.services.scheduler.pool.stats()["pids"] == []  # stopped
        for pid in first_pids:
            assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    finally:
        namespace["demo"].services.scheduler.pool.close()
