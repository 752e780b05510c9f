"""The panels beyond the first run, in a real browser: the replay and the seeds view of the Train tab, a lesson's
follow-up, the Variants race, the adapter library, the toy-to-real counts, and links restoring settings.

The in-figure controls (the replay's slider, the library's switch buttons and mix slider) must redraw in the
browser alone: these tests record every request the page makes and allow none to /gradio_api after a click.
A full-page screenshot of each tab goes to /tmp/browser_shots/ for a person to look at.
"""
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from lora_demo.links import DEFAULTS
from lora_demo.text import t

SHOTS = Path("/tmp/browser_shots")
DONE = {"en": "Done", "zh": "完成"}
LANG_LABEL = {"en": "English", "zh": "中文"}
RUN_S = 60_000  # a run is well under this even on two busy cores

def open_page(browser, url):
    """A page at url that keeps its console errors (page.errors) and every request URL (page.requests)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.errors, page.requests = [], []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("request", lambda r: page.requests.append(r.url))
    page.goto(url, wait_until="networkidle")
    return page


@pytest.fixture
def page(browser, app_url):
    page = open_page(browser, app_url)
    yield page
    page.close()


def use_language(page, lang):
    if lang != "en":
        page.locator("#language").get_by_text(LANG_LABEL[lang]).click()
    page.locator("#train").get_by_text(t(lang, "train"), exact=True).wait_for(timeout=10_000)


def wait_done(page, status_id, lang, timeout=RUN_S):
    page.locator(f"#{status_id}").get_by_text(DONE[lang]).first.wait_for(timeout=timeout)


def train(page, lang="en"):
    page.click("#train")
    wait_done(page, "status", lang)


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(300)  # let Plotly finish laying out what it just drew
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def template(lang, key):
    """A regex matching t(lang, key) with any values in its fields (each field captured)."""
    parts = re.split(r"\{[^{}]*\}", t(lang, key))
    return "^" + "(.+?)".join(re.escape(p) for p in parts) + "$"


def text_of(page, selector):
    return page.eval_on_selector(selector, "el => el.textContent")


def image_sources(page, plot_id):
    return page.eval_on_selector_all(f"#{plot_id} image", "els => els.map(e => e.getAttribute('href'))")


def server_calls(page, since):
    """Requests to the app's API made after page.requests[since]."""
    return [u for u in page.requests[since:] if "/gradio_api" in u]


def click_slider_left_end(page, plot_id):
    rail = page.locator(f"#{plot_id} .slider-rail-rect").first
    rail.scroll_into_view_if_needed()
    box = rail.bounding_box()
    page.mouse.move(box["x"] + 3, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.up()


def wait_title_change(page, plot_id, before):
    page.wait_for_function("([sel, before]) => { const el = document.querySelector(sel);"
                           " return el && el.textContent !== before; }",
                           arg=[f"#{plot_id} .gtitle", before], timeout=5_000)
    return text_of(page, f"#{plot_id} .gtitle")


def wait_image_change(page, plot_id, before, timeout=5_000):
    """The plot's image sources once they differ from `before`. Plotly may draw a frame's title before its
    image, so the title having changed does not mean the image has (a race CI hit once)."""
    try:
        page.wait_for_function("([sel, before]) => JSON.stringify([...document.querySelectorAll(sel)]"
                               ".map(e => e.getAttribute('href'))) !== before",
                               arg=[f"#{plot_id} image", json.dumps(before, separators=(",", ":"))], timeout=timeout)
    except PlaywrightTimeout:
        pass  # the caller's assertion says what stayed the same
    return image_sources(page, plot_id)


def table_rows(page, table_id):
    """The cells of a Markdown table's body, row by row."""
    return page.eval_on_selector_all(f"#{table_id} table tbody tr",
                                     "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))")


@pytest.fixture(scope="module", params=["en", "zh"])
def trained(request, browser, app_url):
    """A page in one language (switched with the radio) after one default Train run: the replay and the seeds
    view tests share it, to spend the two shared cores on one run per language."""
    page = open_page(browser, app_url)
    page.lang = request.param
    use_language(page, page.lang)
    train(page, page.lang)
    yield page
    page.close()


def test_replay_slider_shows_pretraining_without_a_server_call(trained):
    page, lang = trained, trained.lang
    total = DEFAULTS["pretrain_steps"] + DEFAULTS["adapt_steps"]
    page.locator("#plot-replay .slider-rail-rect").first.wait_for(timeout=10_000)
    title = text_of(page, "#plot-replay .gtitle")
    adapt = re.match(template(lang, "replay_adapt"), title)
    assert adapt and adapt.groups() == (str(total), str(total)), title  # opens on the finished run
    sources = image_sources(page, "plot-replay")
    assert len(sources) == 1 and sources[0].startswith("data:image/png")

    mark = len(page.requests)
    click_slider_left_end(page, "plot-replay")
    title = wait_title_change(page, "plot-replay", title)
    pretrain = re.match(template(lang, "replay_pretrain"), title)
    assert pretrain, title
    assert int(pretrain.group(1)) < DEFAULTS["pretrain_steps"] and pretrain.group(2) == str(total)
    after = wait_image_change(page, "plot-replay", sources)
    assert len(after) == 1 and after != sources  # the base's early field, not the adapted one
    page.wait_for_timeout(500)  # time for any late request to show up
    assert server_calls(page, mark) == []
    assert page.errors == []


def test_seeds_view_shows_ten_seeds_of_four_accuracies(trained):
    page, lang = trained, trained.lang
    page.get_by_role("button", name=t(lang, "seeds_button")).first.click()
    page.click("#seeds-run")
    wait_done(page, "seeds-status", lang)
    names = [t(lang, "seeds_" + m) for m in ("base_source", "base_target", "lora_target", "lora_source")]
    # the last figure arrives with the status; give Plotly the moment it needs to draw it
    page.wait_for_function("() => document.querySelectorAll('#plot-seeds .scatterlayer .point').length >= 40",
                           timeout=10_000)
    dots = page.eval_on_selector_all("#plot-seeds .scatterlayer .trace",
                                     "ts => ts.map(tr => tr.querySelectorAll('.point').length).filter(n => n > 0)")
    assert dots == [10, 10, 10, 10]
    ticks = page.eval_on_selector_all("#plot-seeds .xtick text", "els => els.map(e => e.textContent)")
    assert ticks == names
    rows = table_rows(page, "seeds-table")
    assert [r[0] for r in rows] == names
    assert all(cell.endswith("%") for r in rows for cell in r[1:])
    shot(page, f"train_{lang}")
    assert page.errors == []


def test_lesson_follow_up_runs_its_change_and_other_lessons_hide_it(page):
    page.click("#preset-fc1-rotation")
    wait_done(page, "status", "en")
    follow = page.locator("#next-fc1-rotation")
    assert follow.is_visible()
    assert "trainable params: 66 ||" in page.locator("#results").inner_text()
    follow.click()
    page.wait_for_function("() => document.querySelector('#results').innerText.includes('trainable params: 132')",
                           timeout=RUN_S)
    wait_done(page, "status", "en")
    assert page.locator("#rank input[type=number]").input_value() == "2"
    assert page.locator("#alpha input[type=number]").input_value() == "4"
    page.click("#preset-seed")  # a lesson with no follow-up
    follow.wait_for(state="hidden", timeout=10_000)
    assert not page.locator("#next-new-dataset").is_visible()
    # its own run: LoRA r = 4 on fc1 (2 inputs, 64 outputs) trains 4 · (2 + 64) numbers
    page.wait_for_function("() => document.querySelector('#results').innerText.includes('trainable params: 264 ||')",
                           timeout=RUN_S)
    assert page.errors == []


VARIANTS = ["LoRA", "rsLoRA", "DoRA", "PiSSA", "OLoRA", "LoRA+"]


@pytest.fixture(scope="module")
def raced(browser, app_url):
    """A page after one race on the default settings, shared by the race's tests."""
    page = open_page(browser, app_url)
    page.get_by_role("tab", name=t("en", "race_tab")).click()
    page.click("#race-run")
    wait_done(page, "race-status", "en")
    yield page
    page.close()


def test_race_draws_a_boundary_per_variant(raced):
    page = raced
    plot = "#plot-race-boundaries"
    page.wait_for_function("() => document.querySelectorAll('#plot-race-boundaries .annotation-text').length >= 6",
                           timeout=10_000)
    assert page.locator(f"{plot} .cartesianlayer .subplot").count() == 6
    assert page.locator(f"{plot} image").count() == 6  # one class field per panel
    heads = page.eval_on_selector_all(f"{plot} .annotation-text", "els => els.map(e => e.textContent)")
    assert [h.split(" · ")[0].split(" (")[0] for h in heads] == VARIANTS
    for other in ("plot-race-loss", "plot-race-summary"):
        assert page.locator(f"#{other} .main-svg").first.is_visible(), other
    shot(page, "variants_en")
    assert page.errors == []


def test_race_table_has_a_row_per_variant(raced):
    page = raced
    rows = table_rows(page, "race-table")
    assert [r[0].split(" (")[0] for r in rows] == VARIANTS
    assert page.errors == []


def test_library_switch_and_mix_redraw_in_the_browser(page):
    page.get_by_role("tab", name=t("en", "lib_tab")).click()
    page.click("#library-run")
    wait_done(page, "library-status", "en")
    page.locator("#plot-lib-switch .updatemenu-button").first.wait_for(timeout=10_000)
    page.locator("#plot-lib-mix .slider-rail-rect").first.wait_for(timeout=10_000)
    mark = len(page.requests)

    title = text_of(page, "#plot-lib-switch .gtitle")
    assert title.startswith("Base + adapter for")
    sources = image_sources(page, "plot-lib-switch")
    page.locator("#plot-lib-switch .updatemenu-button", has_text=t("en", "lib_base")).click()
    title = wait_title_change(page, "plot-lib-switch", title)
    assert re.match(template("en", "lib_switch_base_title"), title), title
    assert image_sources(page, "plot-lib-switch") != sources  # the base's own field is on show now

    title = text_of(page, "#plot-lib-mix .gtitle")
    assert title.startswith("0.5 × ")
    sources = image_sources(page, "plot-lib-mix")
    click_slider_left_end(page, "plot-lib-mix")
    title = wait_title_change(page, "plot-lib-mix", title)
    assert title.startswith("0 × ")
    assert image_sources(page, "plot-lib-mix") != sources

    page.wait_for_timeout(500)
    assert server_calls(page, mark) == []
    href = page.locator("#library-export a").first.get_attribute("href")
    assert href.endswith("/lora_library.zip")
    for plot in ("plot-lib-accuracy", "plot-lib-storage"):
        assert page.locator(f"#{plot} .main-svg").first.is_visible(), plot
    shot(page, "library_en")
    assert page.errors == []


def test_toy_to_real_counts_follow_the_target_kind(page):
    page.get_by_role("tab", name=t("en", "real_tab")).click()
    trainable = {}
    before = None
    for kind in ("attention", "mlp", "all"):
        page.locator("#real-target").get_by_text(t("en", "real_target_" + kind), exact=True).click()
        page.wait_for_function("([before, word]) => { const el = document.querySelector('#plot-real-share .gtitle');"
                               " return el && el.textContent !== before && el.textContent.includes(word); }",
                               arg=[before, t("en", "real_target_" + kind)], timeout=10_000)
        before = text_of(page, "#plot-real-share .gtitle")
        page.wait_for_function("() => document.querySelectorAll('#real-table tbody tr').length === 7", timeout=10_000)
        rows = table_rows(page, "real-table")
        assert len(rows) == 7
        trainable[kind] = [int(r[3].replace(",", "")) for r in rows]
        assert all(n > 0 for n in trainable[kind])
    assert all(a < b for a, b in zip(trainable["attention"], trainable["all"]))
    assert all(a < b for a, b in zip(trainable["mlp"], trainable["all"]))
    assert page.locator("#plot-real-memory .main-svg").first.is_visible()
    shot(page, "real_en")
    assert page.errors == []


def checked_layers(page):
    choices = page.eval_on_selector_all("#target-modules label", "els => els.map(e => e.textContent.trim())")
    ticked = page.eval_on_selector_all("#target-modules input[type=checkbox]:checked",
                                       "els => els.map(e => e.closest('label').textContent.trim())")
    return choices, ticked


def test_link_restores_depth_layers_rank_and_chinese(browser, app_url):
    page = open_page(browser, f"{app_url}/?hidden_layers=3&target_modules=fc1,fc4&rank=3&lang=zh")
    page.locator("#train").get_by_text("训练", exact=True).wait_for(timeout=10_000)
    page.get_by_role("button", name=t("zh", "group_model")).first.click()
    assert page.locator("#hidden-layers input[type=number]").input_value() == "3"
    assert checked_layers(page) == (["fc1", "fc2", "fc3", "fc4"], ["fc1", "fc4"])
    assert page.locator("#rank input[type=number]").input_value() == "3"
    assert page.locator("#notice").inner_text().strip() == ""
    assert page.errors == []
    page.close()


def test_link_restores_a_shallow_model_and_its_layers(browser, app_url):
    page = open_page(browser, f"{app_url}/?hidden_layers=1&target_modules=fc1,fc2")
    page.wait_for_function("() => document.querySelectorAll('#target-modules label').length === 2", timeout=10_000)
    page.get_by_role("button", name=t("en", "group_model")).first.click()
    assert page.locator("#hidden-layers input[type=number]").input_value() == "1"
    assert checked_layers(page) == (["fc1", "fc2"], ["fc1", "fc2"])
    assert page.errors == []
    page.close()


def test_link_with_bad_values_says_which_and_keeps_working(browser, app_url):
    page = open_page(browser, f"{app_url}/?rank=abc&dataset=iris")
    notice = page.locator("#notice")
    notice.get_by_text("lora.rank").wait_for(timeout=10_000)
    text = notice.inner_text()
    assert text.count("⚠️") == 2
    assert "Rank r (lora.rank)" in text and "'abc'" in text
    assert "Dataset (data.dataset)" in text and "'iris'" in text
    assert page.locator("#rank input[type=number]").input_value() == str(DEFAULTS["rank"])
    train(page)
    assert "trainable params: 256 ||" in page.locator("#results").inner_text()
    shot(page, "link_notice_en")
    assert page.errors == []
    page.close()


def test_link_notice_puts_each_problem_on_its_own_line(browser, app_url):
    page = open_page(browser, f"{app_url}/?rank=abc&dataset=iris")
    notice = page.locator("#notice")
    notice.get_by_text("lora.rank").wait_for(timeout=10_000)
    lines = [x for x in notice.inner_text().splitlines() if x.strip()]
    page.close()
    assert len(lines) == 2
    assert sum("lora.rank" in x for x in lines) == 1 and sum("data.dataset" in x for x in lines) == 1
