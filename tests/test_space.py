"""Hosting: the folder scripts/space.py writes for a Space, and the app's ZeroGPU wiring with a stand-in
`spaces` package (this machine has no GPU and no ZeroGPU)."""
import json
import os
import subprocess
import sys
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import space  # noqa: E402


def front_matter(readme: str) -> dict:
    head, _ = space.front_matter(readme)
    return dict(line.split(": ", 1) for line in head.splitlines() if ": " in line)


def test_cpu_space_is_this_folder(tmp_path):
    space.write_space(tmp_path / "cpu", zerogpu=False)
    for name in ("app.py", "README.md", "requirements.txt", "lora_demo"):
        assert (tmp_path / "cpu" / name).exists(), name
    assert (tmp_path / "cpu" / "requirements.txt").read_text() == (ROOT / "requirements.txt").read_text()
    fm = front_matter((tmp_path / "cpu" / "README.md").read_text())
    assert fm["sdk"] == "gradio" and fm["sdk_version"] == "6.31.0" and fm["app_file"] == "app.py"
    assert len(fm["short_description"]) <= 60


def test_zerogpu_space_changes_python_and_torch_only(tmp_path):
    space.write_space(tmp_path / "zero", zerogpu=True)
    fm = front_matter((tmp_path / "zero" / "README.md").read_text())
    assert fm["python_version"] == '"3.12.12"'
    reqs = [Requirement(line) for line in (tmp_path / "zero" / "requirements.txt").read_text().splitlines()
            if line and not line.startswith("#")]
    names = {r.name: str(r.specifier) for r in reqs}
    assert names["torch"] == "==2.11.0" and "spaces" in names
    assert not any("+cpu" in v for v in names.values())
    ours = {Requirement(line).name for line in (ROOT / "requirements.txt").read_text().splitlines()
            if line and not line.startswith(("#", "-"))}
    assert ours - {"torch"} <= set(names)  # everything else is the same


FAKE_SPACES = '''
import json, os
def GPU(duration=None):
    def wrap(fn):
        def gpu_call(*args, **kwargs):
            with open(os.environ["GPU_LOG"], "a") as f:
                f.write(json.dumps({"fn": fn.__name__, "duration": duration}) + "\\n")
            return fn(*args, **kwargs)
        return gpu_call
    return wrap
'''

RUN_ON_ZEROGPU = '''
import asyncio, json, sys
import app  # what a Space runs: imports spaces first, builds the page
from lora_demo.links import DEFAULTS
pool = app.demo.services.scheduler.pool
async def main():
    last = None
    async for update in pool.stream("insights", dict(DEFAULTS, n_samples=80, pretrain_steps=20, adapt_steps=20),
                                    "en", 60):
        last = update
    return last
last = asyncio.run(main())
print(json.dumps({"pool": pool.name, "final": last.final}))
'''


def test_on_zerogpu_jobs_run_in_the_web_process_and_batched_training_goes_through_spaces_gpu(tmp_path):
    (tmp_path / "spaces").mkdir()
    (tmp_path / "spaces" / "__init__.py").write_text(FAKE_SPACES)
    log = tmp_path / "gpu.log"
    env = dict(os.environ, SPACES_ZERO_GPU="true", GPU_LOG=str(log),
               PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
    p = subprocess.run([sys.executable, "-c", RUN_ON_ZEROGPU], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out == {"pool": "threads of the web process", "final": True}
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert {c["fn"] for c in calls} == {"train_batched"} and len(calls) >= 2  # the sweep and the α explorer
