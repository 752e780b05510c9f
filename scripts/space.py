"""Write a folder ready to push to a Hugging Face Space.

    python scripts/space.py out/space             # a CPU Space (a paid plan since July 2026): this folder as it is
    python scripts/space.py --zerogpu out/space   # a ZeroGPU Space (free personal accounts may host two)

The ZeroGPU switch changes two files and nothing else: the README's front matter (Python 3.12.12, which
ZeroGPU accepts, and `hardware: zero-a10g`) and requirements.txt (torch from ZeroGPU's supported list, the
CUDA build from PyPI, plus the `spaces` package; ZeroGPU needs a CUDA build, and `spaces` refuses a CPU
one). On ZeroGPU the app runs its jobs in threads of the web process and its batched training under
@spaces.GPU (see lora_demo/gpu.py); elsewhere the same code runs on the CPU.
"""
from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("app.py", "README.md", "LICENSE", "requirements.txt", "lora_demo", "docs")
ZEROGPU_TORCH = "2.11.0"     # the newest torch in ZeroGPU's list (Hugging Face's ZeroGPU docs, August 2026)
ZEROGPU_PYTHON = "3.12.12"   # ZeroGPU accepts Python 3.10.13 or 3.12.12
SPACES = "spaces==0.51.3"


def front_matter(readme: str) -> tuple[str, str]:
    match = re.match(r"^---\n(.*?)\n---\n", readme, flags=re.S)
    if not match:
        raise ValueError("README.md has no front matter")
    return match.group(1), readme[match.end():]


def zerogpu_readme(readme: str) -> str:
    head, body = front_matter(readme)
    head = re.sub(r'^python_version: .*$', f'python_version: "{ZEROGPU_PYTHON}"', head, flags=re.M)
    head = re.sub(r'^suggested_hardware: .*$', "suggested_hardware: zero-a10g", head, flags=re.M)
    return f"---\n{head}\n---\n{body}"


def zerogpu_requirements(requirements: str) -> str:
    keep = [line for line in requirements.splitlines()
            if line.strip() and not line.startswith(("#", "--find-links", "torch"))]
    return "\n".join([
        "# A ZeroGPU Space: torch from ZeroGPU's list (its CUDA build from PyPI), and the spaces package.",
        f"torch=={ZEROGPU_TORCH}", SPACES, *keep]) + "\n"


def write_space(dest: Path, zerogpu: bool) -> list[Path]:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in SHIPPED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif src.exists():
            shutil.copy2(src, dest / name)
    if zerogpu:
        (dest / "README.md").write_text(zerogpu_readme((ROOT / "README.md").read_text(encoding="utf-8")),
                                        encoding="utf-8")
        (dest / "requirements.txt").write_text(zerogpu_requirements((ROOT / "requirements.txt").read_text()),
                                               encoding="utf-8")
    return sorted(dest.iterdir())


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dest", type=Path, help="the folder to write (replaced if it exists)")
    ap.add_argument("--zerogpu", action="store_true", help="for a ZeroGPU Space (free personal accounts)")
    a = ap.parse_args(argv)
    for path in write_space(a.dest, a.zerogpu):
        print(path)
    print("push it: git init, add the Space as a remote (huggingface.co/spaces/<you>/<name>), commit, push")


if __name__ == "__main__":
    main()
