"""Presets, shareable-link parsing and the two languages, without a browser."""
import re
from urllib.parse import parse_qsl

import pytest

from lora_demo import text
from lora_demo.config import FLAT_FIELDS, ConfigError, RunConfig, config_from_flat, flat_from_config
from lora_demo.presets import PRESETS
from lora_demo.links import DEFAULTS, query_from_settings, settings_from_query


def test_presets_are_valid_and_their_arithmetic_is_right():
    """Each lesson's outcomes are claims (test_claims.py); its counts are checked here."""
    assert len(PRESETS) >= 5
    for p in PRESETS.values():
        assert set(p.settings) <= set(FLAT_FIELDS)
        assert p.config() != RunConfig()
        for lang in text.LANGUAGES:
            assert p.title[lang] and len(re.findall(r"[.。]", p.lesson[lang])) >= 2
            assert "{c[" in p.lesson[lang], f"{p.key}: a lesson quotes what was measured"
        if p.follow_up is not None:
            changed = set(p.follow_up.settings)
            assert p.follow_up_config() != p.config() and changed <= set(FLAT_FIELDS)
    fc1 = PRESETS["fc1-rotation"]
    assert fc1.config().lora.rank == 1 and fc1.follow_up_config().lora.rank == 2
    assert fc1.config().lora.alpha / 1 == fc1.follow_up_config().lora.alpha / 2  # "keeps α/r"
    assert 2 * (2 + 64) == 132 and 64 * 2 == 128  # "132 numbers for a layer of 128 weights"
    above = PRESETS["above-break-even"].config()
    assert above.lora.rank * (64 + 64) == 6144 > 64 * 64 and 64 * 64 / (64 + 64) == 32


def test_link_round_trip_restores_every_setting():
    cfg = config_from_flat(dict(DEFAULTS, rank=5, alpha=2.5, use_rslora=True, target_modules=["fc1", "fc3"],
                                shift_kind="dataset", shift_dataset="blobs", seed=17, lr=0.003))
    query = query_from_settings(flat_from_config(cfg), "zh")
    parsed = dict(parse_qsl(query.lstrip("?")))
    assert parsed["lang"] == "zh" and set(FLAT_FIELDS) <= set(parsed)
    found, problems = settings_from_query(parsed)
    assert problems == []
    assert config_from_flat(found) == cfg


def test_bad_link_values_are_reported_and_skipped():
    found, problems = settings_from_query({"rank": "abc", "alpha": "nan", "use_rslora": "maybe",
                                           "dataset": "iris", "seed": "3", "hidden_layers": "1",
                                           "target_modules": "fc1,fc3"})
    assert found == {"seed": 3, "hidden_layers": 1}
    assert len(problems) == 5
    assert any("lora.rank" in p for p in problems) and any("lora.target_modules" in p for p in problems)


def test_both_languages_cover_every_text():
    assert set(text.WORDS["en"]) == set(text.WORDS["zh"])
    assert set(text.FIELDS["en"]) == set(text.FIELDS["zh"]) == set(FLAT_FIELDS)
    for key, zh in text.WORDS["zh"].items():
        en = text.WORDS["en"][key]
        assert set(re.findall(r"{(\w+)", zh)) == set(re.findall(r"{(\w+)", en)), key
        if zh == en:  # only names and formulas (no word of three letters) may read the same in both languages
            named = key in ("language", "must_other", "group_lora", "m_adapter")
            assert named or not re.search(r"[A-Za-z]{3,}", en), f"{key} is not translated"
    for name in FLAT_FIELDS:
        assert re.search(r"[\u4e00-\u9fff]", "".join(text.field_text("zh", name))), name


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_error_messages_in_both_languages(lang):
    with pytest.raises(ConfigError) as err:
        config_from_flat({"rank": 2.5})
    msg = text.config_error_text(err.value, lang)
    assert "lora.rank" in msg and "[1, 64]" in msg and "2.5" in msg
    assert text.field_text(lang, "rank")[0] in msg
