"""Shared fixtures: the app launched in-process on a free port."""
import socket

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_url():
    import torch

    from lora_demo import ui
    torch.set_num_threads(1)
    ui.warm_up()
    demo = ui.build_demo()
    port = free_port()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True,
                **ui.LAUNCH_KWARGS)
    yield f"http://127.0.0.1:{port}"
    demo.close()
