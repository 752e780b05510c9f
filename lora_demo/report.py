"""Words for a run: the status line while it trains and the results panel after. Plain strings, no gradio."""
from __future__ import annotations

from .config import RunConfig
from .text import choice_text, t
from .engine import Snapshot


def task_names(cfg: RunConfig, lang: str = "en") -> tuple[str, str]:
    """The source and target tasks in words, in the page's language."""
    source = choice_text(lang, "dataset", cfg.data.dataset)
    s = cfg.shift
    target = {"rotate": lambda: t(lang, "task_rotated", task=source, angle=s.angle),
              "translate": lambda: t(lang, "task_moved", task=source, offset=s.offset),
              "scale": lambda: t(lang, "task_scaled", task=source, factor=s.factor),
              "dataset": lambda: choice_text(lang, "dataset", s.dataset),
              "none": lambda: t(lang, "task_new_draw", task=source)}[s.kind]()
    return source, target


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def lora_label(cfg: RunConfig, lang: str = "en") -> str:
    scale = "α/√r" if cfg.lora.use_rslora else "α/r"
    return t(lang, "lora_label", rank=cfg.lora.rank, layers="+".join(cfg.lora.target_modules), scale=scale)


def status_line(snap: Snapshot, cfg: RunConfig, lang: str = "en") -> str:
    acc = snap.accuracy
    if snap.done:
        r = snap.result
        trainable = r.params["lora"]["trainable"]
        return t(lang, "status_done", seconds=r.seconds, base=_pct(acc["base_target"]),
                 lora=_pct(acc["lora_target"]), trainable=trainable, share=100 * trainable / r.adapted_weights,
                 percent=r.params["lora"]["percent"])
    if snap.phase == "pretrain":
        return t(lang, "status_pretrain", task=task_names(cfg, lang)[0], step=snap.step, steps=snap.phase_steps,
                 acc=_pct(acc.get("base_source")))
    return t(lang, "status_adapt", lora=lora_label(cfg, lang), task=task_names(cfg, lang)[1], step=snap.step,
             steps=snap.phase_steps, acc=_pct(acc.get("lora_target")), base=_pct(acc.get("base_target")))


def results_markdown(snap: Snapshot, cfg: RunConfig, lang: str = "en") -> str:
    """The read-off after a run: accuracies, the PEFT parameter line, scaling, break-even, merge check."""
    r = snap.result
    a = r.accuracy
    source, target = task_names(cfg, lang)
    w = lambda key, **fmt: t(lang, key, **fmt)  # noqa: E731
    ok = "✓" if r.base_unchanged else "✗"
    merge_ok = "✓" if r.merge_ok else "✗"
    scale = (f"α/√r = {cfg.lora.alpha:g}/√{cfg.lora.rank}" if cfg.lora.use_rslora
             else f"α/r = {cfg.lora.alpha:g}/{cfg.lora.rank}")
    lines = [
        f"| {w('col_model')} | {w('col_task')} | {w('col_acc')} |",
        "|---|---|---|",
        f"| {w('row_base')} | {w('task_source')}: {source} | {_pct(a['base_source'])} |",
        f"| {w('row_frozen')} | {w('task_target')}: {target} | {_pct(a['base_target'])} |",
        f"| **{w('row_lora')}** | {w('task_target')} | **{_pct(a['lora_target'])}** |",
        f"| {w('row_lora_src')} | {w('adapter_on')} | {_pct(a['lora_source'])} |",
        f"| {w('row_off')} | {w('task_source')} | {_pct(a['base_source'])} — {w('identical')} {ok} |",
        "",
        f"`{r.peft_line}`",
        "",
        f"**{w('scaling')}** {scale} = {r.scaling:.3g}. **{w('merge')}:** "
        f"{w('merge_text', diff=r.merge_max_abs_diff, scale=r.merge_output_scale)} {merge_ok}",
    ]
    for name, info in r.layers.items():
        d_in, d_out, r_star = info["d_in"], info["d_out"], info["break_even_rank"]
        rank = cfg.lora.rank
        note = (w("above", rank=rank, weights=d_in * d_out) if rank >= r_star else w("below", rank=rank))
        cap = w("capped", cap=info["max_useful_rank"], rank=rank) if rank > info["max_useful_rank"] else ""
        lines.append(f"\n**{name}** ({d_in} → {d_out}): "
                     f"{w('break_even', d_in=d_in, d_out=d_out, r_star=r_star)}; {note}{cap}.")
    return "\n".join(lines)


def metrics(snap: Snapshot, cfg: RunConfig) -> dict:
    """The JSON the API returns: the settings, accuracies, counts and final losses."""
    return {"config": cfg.to_dict(), **snap.result.to_dict()}
