"""The app without a browser: `python -m lora_demo [options]` runs what the Train button runs and
writes the figures, metrics.json, results.md and the PEFT adapter into a folder.

There is one option per setting in config.FLAT_FIELDS; its bounds, choices and default come from
config, and config checks the values.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

import plotly.io as pio
import torch

from . import report
from .config import (FLAT_FIELDS, ConfigError, Flag, Layers, Num, RunConfig, config_from_flat, flat_from_config,
                     rule_of, short_repr)
from .export import export_adapter, model_from_state
from .plots.encode import to_go
from .plots.run import final_figures
from .text import LANGUAGES
from .engine import TrainingDiverged, run

PROG = "python -m lora_demo"
DEFAULTS = flat_from_config(RunConfig())
DEFAULT_OUT = "out/run-<timestamp>"
PROGRESS_UPDATES = 50  # snapshots per run, each one redraws the progress bar


def flag_of(name: str) -> str:
    """The option of a flat setting: target_modules -> --target-modules."""
    return "--" + name.replace("_", "-")


def _number(rule: Num):
    """argparse type: text -> int or float; the range is checked by config, with its message."""
    def parse(text: str) -> int | float:
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                pass
        raise argparse.ArgumentTypeError(f"must be {rule.allowed}; got {text!r}")
    return parse


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not the usage of every option
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                     description="Pretrain a small network on a toy task, shift the task, adapt the frozen "
                                 "network with LoRA, and write the figures (HTML, and PNG where possible), "
                                 "metrics.json, results.md and the PEFT adapter to a folder.")
    groups: dict = {}
    for name, (section, setting) in FLAT_FIELDS.items():
        if section not in groups:
            groups[section] = parser.add_argument_group(f"{section} settings")
        group, rule, default = groups[section], rule_of(name), DEFAULTS[name]
        about = f"{section}.{setting}: {rule.allowed}"
        if isinstance(rule, Flag):
            group.add_argument(flag_of(name), dest=name, action=argparse.BooleanOptionalAction, default=default,
                               help=f"{section}.{setting}")
        elif isinstance(rule, Layers):
            group.add_argument(flag_of(name), dest=name, default=",".join(default), metavar="fc1,fc2",
                               help=f"{about}, comma-separated")
        elif isinstance(rule, Num):
            group.add_argument(flag_of(name), dest=name, type=_number(rule), default=default,
                               metavar="N" if rule.integer else "X", help=about)
        else:  # Choice
            group.add_argument(flag_of(name), dest=name, default=default,
                               metavar="{" + ",".join(rule.choices) + "}", help=about)
    output = parser.add_argument_group("output")
    output.add_argument("--out", default=DEFAULT_OUT, metavar="FOLDER",
                        help="folder to write into; <timestamp> becomes the start time")
    output.add_argument("--language", choices=list(LANGUAGES), default="en",
                        help="language of the figures and results.md, as the app's switch")
    output.add_argument("--png", action=argparse.BooleanOptionalAction, default=True,
                        help="also write PNG figures (needs kaleido and a Chrome or Chromium)")
    return parser


def explain(e: ConfigError, given: dict) -> str:
    """A ConfigError in the words of the command line: '--rank must be an integer in [1, 64]; got 100'."""
    name = next((k for k, v in FLAT_FIELDS.items() if ".".join(v) == e.field), None)
    if name is None:
        return str(e)
    return f"{flag_of(name)} must be {e.allowed}; got {short_repr(given.get(name, e.value))}"


class ProgressBar:
    """One line redrawn in place: 'LoRA     [##########..........]  50%  step 300/600  test acc 97%'."""

    def __init__(self, total: int, stream=None, width: int = 30):
        self.total, self.stream, self.width = max(1, total), stream or sys.stderr, width
        self.last = ""

    def show(self, done: int, label: str, note: str = "") -> None:
        filled = round(self.width * done / self.total)
        line = (f"{label:<8} [{'#' * filled}{'.' * (self.width - filled)}] {100 * done / self.total:3.0f}%"
                f"  step {done}/{self.total}  {note}").rstrip()
        self.stream.write("\r" + line.ljust(len(self.last)))
        self.stream.flush()
        self.last = line

    def close(self) -> None:
        if self.last:
            self.stream.write("\n")
            self.stream.flush()
            self.last = ""


def train_with_progress(cfg: RunConfig, stream=None):
    """lora_demo.engine.run drained, drawing a progress bar; returns the final snapshot."""
    P, A = cfg.train.pretrain_steps, cfg.train.adapt_steps
    bar = ProgressBar(P + A, stream)
    snap = None
    try:
        for snap in run(cfg, every_steps=max(1, (P + A) // PROGRESS_UPDATES)):
            adapting = snap.phase == "adapt"
            acc = snap.accuracy.get("lora_target" if adapting else "base_source")
            bar.show(snap.step + (P if adapting else 0), "LoRA" if adapting else "pretrain",
                     "" if acc is None else f"test acc {100 * acc:.0f}%")
    finally:
        bar.close()
    return snap


def _notice(message: str) -> None:
    print(message, file=sys.stderr)


def write_pngs(figures: dict, folder: Path, notice=_notice) -> list[Path]:
    """PNG copies through kaleido and a local Chrome/Chromium (BROWSER_PATH picks one);
    without either, none and a one-line notice."""
    if importlib.util.find_spec("kaleido") is None:
        notice("PNG skipped: kaleido is not installed (pip install kaleido); the HTML files have every figure")
        return []
    paths = [folder / f"{name}.png" for name in figures]
    try:
        pio.write_images(list(figures.values()), paths, scale=2)  # one browser start for all five
    except Exception as e:  # no browser, or it failed: the HTML is enough
        first = next((line.strip() for line in str(e).splitlines() if line.strip()), type(e).__name__)
        notice(f"PNG skipped: {first} (BROWSER_PATH can point to a Chrome or Chromium)")
        for p in paths:
            p.unlink(missing_ok=True)
        return []
    return paths


def write_outputs(snap, cfg: RunConfig, folder: Path, png: bool = True, notice=_notice,
                  lang: str = "en") -> list[Path]:
    """Figures as HTML (+ PNG), metrics.json, results.md and adapter/ in folder; returns what was written."""
    folder.mkdir(parents=True, exist_ok=True)
    figures = {name: to_go(fig) for name, fig in final_figures(snap, cfg, lang).items()}
    written = []
    for name, fig in figures.items():
        fig.write_html(folder / f"{name}.html", include_plotlyjs="directory")  # one plotly.min.js beside them
        written.append(folder / f"{name}.html")
    written.append(folder / "plotly.min.js")
    if png:
        written += write_pngs(figures, folder, notice)
    (folder / "metrics.json").write_text(json.dumps(report.metrics(snap, cfg), indent=2) + "\n", encoding="utf-8")
    (folder / "results.md").write_text(report.results_markdown(snap, cfg, lang) + "\n", encoding="utf-8")
    adapter = export_adapter(model_from_state(snap.model_state, cfg.lora), folder / "adapter", init=cfg.lora.init)
    return written + [folder / "metrics.json", folder / "results.md", *adapter.values()]


def negative_values_attached(argv: list[str]) -> list[str]:
    """`--offset -1e-3` as `--offset=-1e-3`: argparse takes a negative number for an option unless it looks
    like -5 or -.5, so `-1e-3` or `-1E2` after an option would fail with "expected one argument"."""
    out: list[str] = []
    for token in argv:
        previous = out[-1] if out else ""
        if token.startswith("-") and previous.startswith("--") and "=" not in previous and _is_number(token):
            out[-1] = f"{previous}={token}"
        else:
            out.append(token)
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(negative_values_attached(sys.argv[1:] if argv is None else argv))

    def fail(code: int, message: str) -> int:
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return code

    given = {name: getattr(args, name) for name in FLAT_FIELDS}
    try:
        cfg = config_from_flat(given)
    except ConfigError as e:
        return fail(2, explain(e, given))
    folder = Path(args.out.replace("<timestamp>", time.strftime("%Y%m%d-%H%M%S")))

    torch.set_num_threads(1)  # as in the app: this small model runs fastest on one thread, more so on a busy machine
    try:
        snap = train_with_progress(cfg)
    except TrainingDiverged as e:
        return fail(1, f"training stopped: {e}")
    except KeyboardInterrupt:
        return fail(130, "interrupted")
    try:
        written = write_outputs(snap, cfg, folder, png=args.png, lang=args.language)
    except OSError as e:
        return fail(1, f"cannot write to {folder}: {e}")

    acc, lora = snap.result.accuracy, snap.result.params["lora"]
    print(f"frozen base on the target: {100 * acc['base_target']:.1f}% -> with LoRA: {100 * acc['lora_target']:.1f}% "
          f"({lora['trainable']:,} trainable parameters, {lora['percent']:.1f}% of the model)")
    print(f"wrote {folder}/")
    for path in written:
        print(f"  {path.relative_to(folder)}")
    return 0
