"""The command line, python -m lora_demo: one small run writes every output; bad options fail in one line."""
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lora_demo import cli
from lora_demo.config import FLAT_FIELDS, DataConfig, Flag, RunConfig, TrainConfig, rule_of
from lora_demo.plots.encode import to_go
from lora_demo.plots.run import FIGURE_NAMES, final_figures
from lora_demo.engine import run, train

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--n-samples", "80", "--pretrain-steps", "40", "--adapt-steps", "40"]
ADAPTER_FILES = {"adapter_config.json", "adapter_model.safetensors", "base_model.safetensors",
                 "base_model.json", "load_with_peft.py"}


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "lora_demo", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=180)


def call_main(argv) -> int:
    """cli.main in this process; argparse's own errors exit through SystemExit."""
    try:
        return cli.main(argv)
    except SystemExit as e:
        return e.code


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    proc = run_cli(*SMALL, "--rank", "3", "--alpha", "6", "--target-modules", "fc1,fc2",
                   "--shift-kind", "translate", "--offset", "0.5", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out, proc


@pytest.fixture(scope="module")
def small_run():
    cfg = RunConfig(data=DataConfig(n_samples=80), train=TrainConfig(pretrain_steps=40, adapt_steps=40))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield cfg, train(cfg)
    finally:
        torch.set_num_threads(threads)


def test_run_writes_every_file(cli_run):
    out, proc = cli_run
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    expected = ({f"{n}.html" for n in FIGURE_NAMES} | {"plotly.min.js", "metrics.json", "results.md"}
                | {f"adapter/{n}" for n in ADAPTER_FILES})
    assert expected <= names
    for name in names:
        assert (out / name).stat().st_size > 0, name
        assert name in proc.stdout  # the listing names every file it wrote
    assert "100%" in proc.stderr  # the progress bar got to the end
    assert "Traceback" not in proc.stderr


def test_html_figures_are_plotly(cli_run):
    out, _ = cli_run
    for name in FIGURE_NAMES:
        html = (out / f"{name}.html").read_text(encoding="utf-8")
        assert 'src="plotly.min.js"' in html and "Plotly.newPlot" in html
    assert "plotly" in (out / "plotly.min.js").read_text(encoding="utf-8")[:2000].lower()


def test_png_where_possible(cli_run):
    out, proc = cli_run
    pngs = sorted(p.stem for p in out.glob("*.png"))
    if importlib.util.find_spec("kaleido") and (shutil.which("chromium") or shutil.which("google-chrome")):
        assert pngs == sorted(FIGURE_NAMES), proc.stderr
        assert all((out / f"{n}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for n in pngs)
    elif not pngs:
        assert "PNG skipped" in proc.stderr


def test_metrics_results_and_adapter(cli_run):
    out, _ = cli_run
    m = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert m["config"]["lora"] == {"rank": 3, "alpha": 6.0, "use_rslora": False, "target_modules": ["fc1", "fc2"],
                                   "init": "peft"}
    assert m["config"]["shift"]["kind"] == "translate" and m["config"]["shift"]["offset"] == 0.5
    assert m["config"]["data"]["n_samples"] == 80 and m["config"]["train"]["adapt_steps"] == 40
    assert set(m["accuracy"]) == {"base_source", "base_target", "lora_target", "lora_source"}
    assert all(0 <= a <= 1 for a in m["accuracy"].values())
    assert "trainable params" in (out / "results.md").read_text(encoding="utf-8")
    adapter = json.loads((out / "adapter" / "adapter_config.json").read_text())
    assert (adapter["r"], adapter["lora_alpha"], adapter["target_modules"]) == (3, 6, ["fc1", "fc2"])


def test_bad_option_exits_2_naming_it():
    proc = run_cli("--rank", "100")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "python -m lora_demo: error: --rank must be an integer in [1, 64]; got 100"
    assert proc.stdout == ""


@pytest.mark.parametrize("args, words", [
    (["--alpha", "0"], ["--alpha", "(0, 256]"]),
    (["--rank", "2.5"], ["--rank", "an integer in [1, 64]"]),
    (["--rank", "two"], ["--rank", "an integer in [1, 64]", "'two'"]),
    (["--angle", "nan"], ["--angle", "[-180, 180]"]),
    (["--dataset", "iris"], ["--dataset", "one of moons, circles"]),
    (["--target-modules", "fc1,fc9"], ["--target-modules", "fc1 … fc4", "fc1,fc9"]),
    (["--hidden-layers", "1", "--target-modules", "fc3"], ["--target-modules", "fc1 … fc2"]),
    (["--no-such-option"], ["--no-such-option"]),
    (["--noise", "-1e-3"], ["--noise", "[0, 0.5]", "-0.001"]),  # argparse alone: "expected one argument"
])
def test_bad_options_one_line(args, words, capsys):
    assert call_main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    for word in words:
        assert word in err


def test_negative_numbers_in_any_notation_reach_their_option():
    from lora_demo.cli import build_parser, negative_values_attached
    for text, value in (("-1e-3", -0.001), ("-1E2", -100.0), ("-0.5", -0.5), ("-5", -5.0)):
        args = build_parser().parse_args(negative_values_attached(["--offset", text, "--seed", "3"]))
        assert args.offset == value and args.seed == 3
    assert negative_values_attached(["--offset=-1e-3", "--angle", "-30"]) == ["--offset=-1e-3", "--angle=-30"]


def test_diverged_run_exits_1(tmp_path, capsys):
    threads = torch.get_num_threads()  # main() sets one thread; give the other tests theirs back
    try:
        assert call_main([*SMALL, "--lr", "10", "--no-png", "--out", str(tmp_path / "run")]) == 1
    finally:
        torch.set_num_threads(threads)
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith("python -m lora_demo: error: training stopped: pretraining diverged")
    assert not (tmp_path / "run").exists()


def test_help_lists_every_option_with_its_bounds(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    assert call_main(["--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for name in FLAT_FIELDS:
        assert cli.flag_of(name) in text
        if not isinstance(rule_of(name), Flag):
            assert rule_of(name).allowed in text, name
    assert "--no-use-rslora" in text and "--no-png" in text
    assert "an integer in [1, 64] (default: 2)" in text  # --rank


def test_final_figures(small_run):
    cfg, snap = small_run
    figs = final_figures(snap, cfg)
    assert tuple(figs) == FIGURE_NAMES
    for name, fig in figs.items():
        assert len(fig["data"]) > 0, name
        to_go(fig)  # every figure is one Plotly accepts (validated here, not on the app's hot path)
    for name in ("base_source", "base_target", "lora_target"):
        assert figs[name]["data"][0]["type"] == "image" and "%" in figs[name]["layout"]["title"]["text"]
    assert {t["name"] for t in figs["loss"]["data"]} >= {"LoRA · train (target)", "pretraining · train (source)"}
    assert f"LoRA r={cfg.lora.rank}" in figs["params"]["data"][0]["y"]


def test_final_figures_before_adaptation_show_a_placeholder(small_run):
    cfg, _ = small_run
    first = next(run(cfg))
    figs = final_figures(first, cfg)
    assert all(t["type"] != "image" for t in figs["lora_target"]["data"])
    assert figs["lora_target"]["layout"]["annotations"][0]["text"] == "starts after pretraining"


def test_write_outputs_without_png(small_run, tmp_path, capsys):
    cfg, snap = small_run
    written = cli.write_outputs(snap, cfg, tmp_path, png=False)
    assert not list(tmp_path.glob("*.png")) and capsys.readouterr().err == ""
    assert all(p.stat().st_size > 0 for p in written)
