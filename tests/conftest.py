"""Shared fixtures: the app launched in-process on a free port."""
import socket

import pytest


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
