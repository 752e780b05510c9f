"""Words for a run: the status line while it trains and the results panel after. Plain strings, no gradio."""
from __future__ import annotations

from .config import RunConfig
from .train import Snapshot


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def lora_label(cfg: RunConfig) -> str:
    scale = "α/√r" if cfg.lora.use_rslora else "α/r"
    return f"LoRA r={cfg.lora.rank} on {'+'.join(cfg.lora.target_modules)} ({scale})"


def status_line(snap: Snapshot, cfg: RunConfig) -> str:
    acc = snap.accuracy
    if snap.done:
        r = snap.result
        return (f"**Done** in {r.seconds:.1f} s. On the shifted task the frozen base scores "
                f"{_pct(acc['base_target'])}; LoRA brings it to **{_pct(acc['lora_target'])}** by training "
                f"{r.params['lora']['trainable']:,} parameters ({r.params['lora']['percent']:.1f}% of the model).")
    if snap.phase == "pretrain":
        return (f"**1 · Pretraining** every weight on *{snap.source.name}* — step {snap.step}/{snap.phase_steps}"
                f" · test accuracy {_pct(acc.get('base_source'))}")
    return (f"**2 · Adapting** with {lora_label(cfg)}, base frozen, on *{snap.target.name}* — step "
            f"{snap.step}/{snap.phase_steps} · test accuracy {_pct(acc.get('lora_target'))} "
            f"(base alone: {_pct(acc.get('base_target'))})")


def results_markdown(snap: Snapshot, cfg: RunConfig) -> str:
    """The read-off after a run: accuracies, the PEFT parameter line, scaling, break-even, merge check."""
    r = snap.result
    a = r.accuracy
    ok = "✓" if r.base_unchanged else "✗ (changed!)"
    merge_ok = "✓" if r.merge_max_abs_diff < 1e-5 else "(larger than float32 rounding)"
    scale = (f"α/√r = {cfg.lora.alpha:g}/√{cfg.lora.rank}" if cfg.lora.use_rslora
             else f"α/r = {cfg.lora.alpha:g}/{cfg.lora.rank}")
    lines = [
        "| model | task | test accuracy |",
        "|---|---|---|",
        f"| base (pretrained) | source: {snap.source.name} | {_pct(a['base_source'])} |",
        f"| base, frozen | target: {snap.target.name} | {_pct(a['base_target'])} |",
        f"| **base + LoRA** | target | **{_pct(a['lora_target'])}** |",
        f"| base + LoRA | source (adapter on) | {_pct(a['lora_source'])} |",
        f"| base + LoRA, adapter off | source | {_pct(a['base_source'])} — the base weights are bit-identical "
        f"to before {ok} |",
        "",
        f"`{r.peft_line}`",
        "",
        f"**Scaling** {scale} = {r.scaling:.3g}. **Merge check:** W + ΔW as a plain model gives the same "
        f"outputs, max |difference| = {r.merge_max_abs_diff:.1e} {merge_ok}",
    ]
    for name, info in r.layers.items():
        d_in, d_out, r_star = info["d_in"], info["d_out"], info["break_even_rank"]
        note = (f"at r = {cfg.lora.rank} ≥ r* the adapter holds at least as many numbers as the "
                f"layer's {d_in * d_out:,} weights" if cfg.lora.rank >= r_star
                else f"r = {cfg.lora.rank} stays below it")
        cap = (f"; ΔW's rank can never exceed {info['max_useful_rank']}, so r = {cfg.lora.rank} buys nothing extra"
               if cfg.lora.rank > info["max_useful_rank"] else "")
        lines.append(f"\n**{name}** ({d_in} → {d_out}): break-even rank r* = {d_in}·{d_out}/({d_in}+{d_out}) "
                     f"≈ {r_star:.2f}; {note}{cap}.")
    return "\n".join(lines)


def metrics(snap: Snapshot, cfg: RunConfig) -> dict:
    """The JSON the API returns: the settings, accuracies, counts and final losses."""
    return {"config": cfg.to_dict(), **snap.result.to_dict()}
