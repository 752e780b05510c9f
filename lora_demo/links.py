"""Shareable links: every setting (and the language) as a URL query, and back. No gradio, no torch.

A link holds the flat settings of config.FLAT_FIELDS; a value that does not fit its rule is reported
(in the page's language) and left out, so a bad link still opens the app with everything else it holds.
"""
from __future__ import annotations

from urllib.parse import urlencode

from .config import FLAT_FIELDS, ConfigError, Flag, Num, RunConfig, config_from_flat, flat_from_config, rule_of
from .text import LANGUAGES, config_error_text

DEFAULTS = flat_from_config(RunConfig())
TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}


def parse_value(name: str, text: str):
    """A query-string value as the type its setting wants; anything unparsable is left for validation to reject."""
    rule = rule_of(name)
    if isinstance(rule, Num):
        try:
            v = float(text)
        except ValueError:
            return text
        return int(v) if rule.integer and v.is_integer() else v
    if isinstance(rule, Flag):
        low = text.lower()
        return True if low in TRUE else False if low in FALSE else text
    return text  # choices as they are; layers as "fc1,fc2" (config splits them)


def settings_from_query(query: dict) -> tuple[dict, list[str]]:
    """Settings found in a URL query (valid ones only, as the values the controls take) and one message
    per rejected one, in the link's language.

    Each value is checked by its own rule first; then the whole configuration, and a setting that clashes
    with the others (e.g. target layers the chosen depth does not have) is reported and left out."""
    lang = query.get("lang") if query.get("lang") in LANGUAGES else "en"
    found, problems = {}, []
    for name, path in FLAT_FIELDS.items():
        if name not in query:
            continue
        try:
            value = rule_of(name)(".".join(path), parse_value(name, query[name]))
        except ConfigError as e:
            problems.append(config_error_text(e, lang))
            continue
        found[name] = list(value) if isinstance(value, tuple) else value
    while found:
        try:
            config_from_flat({**DEFAULTS, **found})
            break
        except ConfigError as e:
            problems.append(config_error_text(e, lang))
            culprit = next((n for n, p in FLAT_FIELDS.items() if ".".join(p) == e.field), None)
            if culprit not in found:  # cannot happen with valid defaults; never loop forever
                found.clear()
                break
            found.pop(culprit)
    return found, problems


def query_from_settings(values: dict, lang: str) -> str:
    """The URL query that restores these settings: every setting, plus the language."""
    cleaned = {}
    for name, value in values.items():
        if isinstance(value, (list, tuple)):
            value = ",".join(value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, float) and value.is_integer():
            value = int(value)
        cleaned[name] = value
    return "?" + urlencode({**cleaned, "lang": lang})
