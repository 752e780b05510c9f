"""Every word the app shows, in English and Chinese: one module of plain data per part of the app,
merged here, and the lookup functions. Nothing here imports torch or gradio.

Outcome sentences quote measured figures through `{c[claim name].range}`-style fields: see lora_demo.claims.
"""
from __future__ import annotations

from . import core, insights, library, race, real

LANGUAGES = {"en": "English", "zh": "中文"}
FIELDS = core.FIELDS
CHOICES = core.CHOICES


def _merge(*modules) -> dict:
    words: dict = {lang: {} for lang in LANGUAGES}
    for module in modules:
        for lang in LANGUAGES:
            clash = set(words[lang]) & set(module.WORDS[lang])
            if clash:
                raise ValueError(f"{module.__name__} repeats text keys: {sorted(clash)}")
            words[lang].update(module.WORDS[lang])
    return words


WORDS = _merge(core, insights, race, library, real)


def lang_of(language) -> str:
    return language if language in LANGUAGES else "en"


def t(language: str, key: str, **fmt) -> str:
    """The text for key in language (English if missing), formatted with fmt and the measured claims."""
    words = WORDS[lang_of(language)]
    text = words.get(key, WORDS["en"][key])
    return quote(text, **fmt) if fmt or "{c[" in text else text


def quote(text: str, **fmt) -> str:
    """text with its fields filled; {c[name].range} and the like read the measured claims (lora_demo.claims)."""
    if "{c[" in text:
        from ..claims import figures
        fmt = dict(fmt, c=figures())
    return text.format(**fmt)


def field_text(language: str, name: str) -> tuple[str, str]:
    return FIELDS[lang_of(language)][name]


def choice_text(language: str, name: str, value: str) -> str:
    table = CHOICES[lang_of(language)]
    key = "dataset" if name == "shift_dataset" else name
    return table.get(key, {}).get(value, value)


def config_error_text(error, language: str) -> str:
    """A ConfigError as one sentence in language, naming the control, the setting and what is allowed."""
    from ..config import FLAT_FIELDS, Choice, Flag, Layers, Num, rule_of, short_repr
    flat = next((k for k, v in FLAT_FIELDS.items() if ".".join(v) == error.field), None)
    if flat is None:  # an unknown setting name
        return str(error)
    label = field_text(language, flat)[0]
    rule = rule_of(flat)
    common = dict(label=label, field=error.field, value=short_repr(error.value))
    if error.key:  # fine alone, ruled out by another setting: the clash has its own sentence, naming the others
        names = {".".join(v): k for k, v in FLAT_FIELDS.items()}
        join, pattern = ("、", "{}（{}）") if language == "zh" else (", ", "{} ({})")
        others = join.join(pattern.format(field_text(language, names[p])[0], p) for p in error.involves if p in names)
        return t(language, error.key, involved=others, **common, **error.fields)
    if isinstance(rule, Layers):
        return t(language, "must_layers", most=rule.most, **common)
    if isinstance(rule, Num):
        fmt = "{:,.0f}" if rule.integer else "{:g}"
        key = "must_int" if rule.integer else "must_num"
        return t(language, key, lo=fmt.format(rule.lo), hi=fmt.format(rule.hi),
                 open="(" if rule.lo_open else "[", **common)
    if isinstance(rule, Choice):
        return t(language, "must_choice", choices=", ".join(rule.choices), **common)
    if isinstance(rule, Flag):
        return t(language, "must_flag", **common)
    return t(language, "must_other", message=str(error))
