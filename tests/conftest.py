"""Shared fixtures: the app launched in-process on a free port, and Debian's Chromium for the browser tests."""
import os
import shutil
import socket

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app():
    """(demo, url): the app serving on a free port, for tests that look inside it too."""
    from lora_demo import ui
    port = free_port()
    demo = ui.serve_in_process(port)
    yield demo, f"http://127.0.0.1:{port}"
    ui.close(demo)


@pytest.fixture(scope="session")
def app_url(app):
    return app[1]


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium per browser-test module (skipped off CI when it is not installed). Module scope, not
    session: Playwright's sync API keeps an event loop running while it is open, and later tests call asyncio.run."""
    if not shutil.which(CHROMIUM) and not os.environ.get("CI"):
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
