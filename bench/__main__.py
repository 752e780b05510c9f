"""The benchmark suite: every headline number in one table of what, value, target, met?

Each benchmark runs in a fresh subprocess (its own torch thread setting, its own memory) and
reports JSON, which this module reads:
  python -m bench.engine --json      the project's training run against a bare PyTorch loop
  python -m bench.peft_step --json   our LoRA training step against PEFT's
  python -m bench.api --json         click → first / final update and bytes per update over HTTP
  python -m bench.sweep --json       the batched rank sweep against one run
  python -m bench.panels --json      click → final update of the variants race, the seeds view, the library and
                                     the insights; requests while switching and mixing adapters in the browser
and the app's cold start is timed here: `python app.py` started as a subprocess until its first
HTTP 200 on /, and until its worker processes answer, median of --cold-runs starts.

    python -m bench [--cold-runs 3] [--json]

Targets marked "(set here)" are this suite's own choice, explained in docs/benchmarks.md; the
others come from the benchmark that measures them.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from bench.procs import ROOT, start_app, stop_app

TIMEOUT = 900  # seconds allowed for any one benchmark subprocess


def run_json(module: str, *args: str) -> dict:
    """Run `python -m module *args` and return the JSON object it prints last on stdout."""
    p = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True,
                       timeout=TIMEOUT)
    if p.returncode != 0:
        raise RuntimeError(f"exit {p.returncode}: {p.stderr.strip().splitlines()[-1:] or ''}")
    lines = p.stdout.splitlines()
    start = max(i for i, line in enumerate(lines) if line.startswith("{"))  # other output may precede it
    return json.loads("\n".join(lines[start:]))


def has_json_flag(module: str) -> bool:
    p = subprocess.run([sys.executable, "-m", module, "--help"], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    return p.returncode == 0 and "--json" in p.stdout


def find_key(obj, key: str):
    """The first value stored under key anywhere in nested dicts, or None."""
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        for v in obj.values():
            found = find_key(v, key)
            if found is not None:
                return found
    return None


def row(what: str, value: str, target: str, met: bool | None, note: str = "") -> dict:
    return {"what": what, "value": value, "target": target, "met": met, "note": note}


def engine_rows() -> list[dict]:
    r = run_json("bench.engine", "--json")
    return [row("training run: project / bare loop (wall)", f"{r['ratio']:.3f}", f"<= {r['target']:.2f}",
                r["ratio"] <= r["target"], f"{r['project_median_s']:.2f} s vs {r['bare_median_s']:.2f} s, "
                f"CPU ratio {r['cpu_ratio']:.3f}, same training: {r['same_training']}")]


def peft_rows() -> list[dict]:
    out = []
    for case, r in run_json("bench.peft_step", "--json").items():
        out.append(row(f"LoRA step ours / PEFT, {case.split(':')[0]} (CPU)", f"{r['ratio']:.3f}",
                       f"<= {r['target']:g}", r["ratio"] <= r["target"],
                       f"{r['ours_us']:.0f} vs {r['peft_us']:.0f} µs/step; wall ratio {r['wall_ratio']:.3f}; "
                       f"same loss: {r['same_training']}"))
    return out


def api_rows() -> list[dict]:
    r = run_json("bench.api", "--json")
    note = f"median of {r['runs']} runs, one user, {r['updates_per_run']:g} updates per run"
    return [row("click → first update", f"{r['click_to_first_update_s']:.2f} s", "<= 0.3 s (scale issue)",
                r["click_to_first_update_s"] <= 0.3, note),
            row("click → first figure", f"{r['click_to_first_figure_s']:.2f} s", "<= 0.3 s (scale issue)",
                r["click_to_first_figure_s"] <= 0.3, note),
            row("click → final update (default run)", f"{r['click_to_final_update_s']:.2f} s",
                "<= 1.5 s (scale issue)", r["click_to_final_update_s"] <= 1.5, note),
            row("bytes per update while training (median / max)",
                f"{r['bytes_per_update_median'] / 1e3:.1f} / {r['bytes_per_update_max'] / 1e3:.1f} kB",
                "max <= 100 kB (set here)", r["bytes_per_update_max"] <= 100e3),
            row("bytes of the final update (with the replay)", f"{r['bytes_final_update'] / 1e3:.1f} kB",
                "<= 200 kB (set here)", r["bytes_final_update"] <= 200e3)]


def sweep_rows() -> list[dict]:
    if not has_json_flag("bench.sweep"):
        return [row("rank sweep / one run", "skipped", "<= 2.5", None,
                    "bench.sweep has no --json yet: run python -m bench.sweep")]
    r = run_json("bench.sweep", "--json")
    ratio, target = find_key(r, "ratio"), find_key(r, "target") or 2.5
    if ratio is None:
        return [row("rank sweep / one run", "skipped", f"<= {target:g}", None,
                    f"no 'ratio' in bench.sweep's JSON (keys: {', '.join(r)})")]
    return [row("rank sweep / one run", f"{ratio:.2f}", f"<= {target:g}", ratio <= target)]


def panels_rows() -> list[dict]:
    r = run_json("bench.panels", "--json", "--runs", "3")
    out = []
    for api, what in (("/race", "variants race"), ("/seeds", "seeds view (10 seeds)"), ("/library", "adapter library"),
                      ("/insights", "insights (every panel)")):
        v = r[api]
        target = v["target_s"]
        out.append(row(f"click → final update, {what}", f"{v['median_s']:.2f} s",
                       f"<= {target:g} s" if target else "", None if target is None else v["median_s"] <= target,
                       "median of 3: " + ", ".join(f"{x:.2f}" for x in v["all_s"])))
    for name, n in r.get("requests", {}).items():
        out.append(row(f"server requests while using the {name}", f"{n}", "0 (no training call)", n == 0))
    return out


def cold_start_rows(runs: int) -> list[dict]:
    from bench.procs import wait_for_workers
    times, ready = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc, url, seconds, log = start_app(wait_workers=False)
        wait_for_workers(url)
        ready.append(time.perf_counter() - t0)
        stop_app(proc)
        log.unlink(missing_ok=True)
        times.append(seconds)
    med, med_ready = statistics.median(times), statistics.median(ready)
    return [row("app cold start: python app.py → first 200 on /", f"{med:.1f} s", "<= 12 s (scale issue)",
                med <= 12.0, f"median of {runs}: " + ", ".join(f"{t:.1f}" for t in times) + " s"),
            row("app cold start → first run answered (workers up)", f"{med_ready:.1f} s", "", None,
                f"median of {runs}: " + ", ".join(f"{t:.1f}" for t in ready) + " s")]


def table(rows: list[dict]) -> str:
    verdict = {True: "yes", False: "NO", None: "–"}
    w = max(len(r["what"]) for r in rows)
    wv = max(len(r["value"]) for r in rows)
    wt = max(len(r["target"]) for r in rows)
    lines = [f"{'what':<{w}}  {'value':>{wv}}  {'target':<{wt}}  met?  note", "-" * (w + wv + wt + 16)]
    lines += [f"{r['what']:<{w}}  {r['value']:>{wv}}  {r['target']:<{wt}}  {verdict[r['met']]:<4}  {r['note']}"
              for r in rows]
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--cold-runs", type=int, default=3, help="cold starts of app.py to time (default 3)")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    rows = []
    parts = [("bench.engine", engine_rows), ("bench.peft_step", peft_rows), ("bench.api", api_rows),
             ("bench.sweep", sweep_rows), ("bench.panels", panels_rows),
             ("cold start", lambda: cold_start_rows(a.cold_runs))]
    for name, part in parts:
        print(f"running {name} …", file=sys.stderr, flush=True)
        try:
            rows += part()
        except Exception as e:  # one broken benchmark must not hide the others
            rows.append(row(name, "failed", "", False, f"{type(e).__name__}: {e}"[:200]))
    if a.json:
        print(json.dumps(rows))
        return
    print(table(rows))
    print(f"\n{sum(r['met'] is True for r in rows)} of {sum(r['met'] is not None for r in rows)} targets met; "
          f"suite took {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
