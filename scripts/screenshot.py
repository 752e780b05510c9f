"""Regenerate docs/screenshot.png: start the app, press Train in headless Chromium, save the page.

    python scripts/screenshot.py [--out docs/screenshot.png] [--browser /usr/bin/chromium]
"""
import argparse
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="docs/screenshot.png")
    p.add_argument("--browser", default="/usr/bin/chromium")
    p.add_argument("--query", default="", help="URL query to open, e.g. '?rank=4'")
    a = p.parse_args()

    from playwright.sync_api import sync_playwright

    from lora_demo import ui

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo = ui.serve_in_process(port)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=a.browser, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/{a.query}", wait_until="networkidle")
            page.click("#train")
            page.locator("#results").get_by_text("trainable params").wait_for(timeout=60_000)  # any language
            page.wait_for_timeout(800)
            Path(a.out).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=a.out, full_page=True)
            browser.close()
    finally:
        ui.close(demo)
    print(f"saved {a.out}")


if __name__ == "__main__":
    main()
