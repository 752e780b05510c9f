"""The environment and the requirement files: CPU-only torch wherever the requirements are installed on Linux."""
import importlib.metadata as md
import re
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
CUDA_DISTRIBUTION = re.compile(r"^(nvidia[-_]|cuda[-_]|triton$)", re.I)
CPU_PAGE = "https://download.pytorch.org/whl/cpu/torch/"
LINUX = {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64"}
MACOS = {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64"}


def test_this_environment_has_no_cuda_build_of_torch():
    """A CUDA build on PyPI carries no "+cu" in its metadata version; torch itself and its companions tell."""
    import torch
    cuda_dists = sorted(d.metadata["Name"] for d in md.distributions()
                        if CUDA_DISTRIBUTION.match(d.metadata["Name"] or ""))
    assert cuda_dists == [], f"CUDA packages installed: {cuda_dists}"
    assert torch.version.cuda is None, f"torch {torch.__version__} is a CUDA build"
    assert "+cu" not in torch.__version__


def requirement_lines(name: str) -> list[str]:
    lines = []
    for raw in (ROOT / name).read_text().splitlines():
        line = raw.split(" #")[0].strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def torch_pins(name: str, env: dict) -> list[Requirement]:
    pins = []
    for line in requirement_lines(name):
        if line.startswith("-"):
            continue
        req = Requirement(line)
        if req.name == "torch" and (req.marker is None or req.marker.evaluate(env)):
            pins.append(req)
    return pins


def test_requirements_ask_for_the_cpu_build_on_linux():
    lines = requirement_lines("requirements.txt")
    assert f"--find-links {CPU_PAGE}" in lines, "PyTorch's CPU wheel page must be named where torch is pinned"
    linux, mac = torch_pins("requirements.txt", LINUX), torch_pins("requirements.txt", MACOS)
    assert len(linux) == 1 and str(linux[0].specifier).endswith("+cpu"), linux
    assert len(mac) == 1 and "+cpu" not in str(mac[0].specifier), mac  # macOS wheels are CPU builds already
    # the test requirements install the same pins (and nothing asks for another torch)
    assert "-r requirements.txt" in requirement_lines("requirements-test.txt")
    for name in ("requirements-test.txt", "requirements-ray.txt"):
        assert torch_pins(name, LINUX) == [], name


def test_the_installed_torch_is_the_pinned_one():
    pin = torch_pins("requirements.txt", LINUX)[0]
    assert pin.specifier.contains(md.version("torch").split("+")[0] + "+cpu", prereleases=True)
    assert Marker('sys_platform != "darwin"').evaluate(LINUX)
