"""The files the app offers for download (PEFT exports), in one folder kept under a size cap and an age
limit, whatever the request rate.

The folder sits inside Gradio's own cache folder, so Gradio serves a file from it as it is instead of
copying it. A file is named by its content's hash: the same run twice is stored once.
"""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

MAX_BYTES = 200 * 2**20   # all downloads together
MAX_AGE_S = 3600.0        # a download link works for an hour


class Downloads:
    def __init__(self, folder: str | Path, max_bytes: int = MAX_BYTES, max_age_s: float = MAX_AGE_S):
        self.folder = Path(folder)
        self.max_bytes, self.max_age_s = max_bytes, max_age_s

    def store(self, name: str, data: bytes) -> Path:
        """Write data as <folder>/<hash>/<name> (once per content), then prune; returns the path."""
        digest = hashlib.sha256(data).hexdigest()[:32]
        path = self.folder / digest / Path(name).name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(path.suffix + ".part")
            tmp.write_bytes(data)
            tmp.replace(path)  # readers never see half a file
        else:
            path.touch()  # recently offered again: keep it longest
        self.prune(keep=path)
        return path

    def files(self) -> list[tuple[float, int, Path]]:
        """(modified time, size, path) of every stored file, oldest first."""
        out = []
        for path in self.folder.glob("*/*"):
            try:
                st = path.stat()
            except OSError:  # removed meanwhile by another process
                continue
            out.append((st.st_mtime, st.st_size, path))
        return sorted(out)

    def total_bytes(self) -> int:
        return sum(size for _, size, _ in self.files())

    def prune(self, keep: Path | None = None) -> int:
        """Remove files older than the age limit, then the oldest until the total fits the cap."""
        files = self.files()
        total = sum(size for _, size, _ in files)
        now, removed = time.time(), 0
        for mtime, size, path in files:
            if path == keep:
                continue
            if now - mtime > self.max_age_s or total > self.max_bytes:
                try:
                    path.unlink()
                    path.parent.rmdir()
                except OSError:
                    pass
                total -= size
                removed += 1
        return removed
