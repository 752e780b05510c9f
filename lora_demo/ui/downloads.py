"""The files the app offers for download (PEFT exports), in one folder kept under a size cap and an age
limit, whatever the request rate.

The folder sits inside Gradio's own cache folder, so Gradio serves a file from it as it is instead of
copying it. A file is named by its content's hash: the same run twice is stored once.
"""
from __future__ import annotations

import hashlib
import math
import time
from pathlib import Path

MAX_BYTES = 200 * 2**20   # all downloads together
MAX_AGE_S = 3600.0        # a download link works for an hour
RESCAN_S = 60.0           # the folder is listed at least this often (so the age limit holds within a minute)
LOW_WATER = 0.9           # a prune that has to remove files goes down to this share of the cap


class Downloads:
    def __init__(self, folder: str | Path, max_bytes: int = MAX_BYTES, max_age_s: float = MAX_AGE_S):
        self.folder = Path(folder)
        self.max_bytes, self.max_age_s = max_bytes, max_age_s
        # Listing the folder costs a stat per file (hundreds after a workshop), on the event loop; so it
        # is listed only when the bytes it may hold could pass the cap, or RESCAN_S after the last listing.
        # `bound` never underestimates what is there: it is the last listing's total plus every store since.
        self.bound = None
        self.listed_at = -math.inf

    def store(self, name: str, data: bytes) -> Path:
        """Write data as <folder>/<hash>/<name> (once per content), then prune; returns the path."""
        digest = hashlib.sha256(data).hexdigest()[:32]
        path = self.folder / digest / Path(name).name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(path.suffix + ".part")
            tmp.write_bytes(data)
            tmp.replace(path)  # readers never see half a file
            if self.bound is not None:
                self.bound += len(data)
        else:
            path.touch()  # recently offered again: keep it longest
        if self.bound is None or self.bound > self.max_bytes or time.monotonic() - self.listed_at > RESCAN_S:
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

    def prune(self, keep: Path | None = None) -> int:
        """Remove files older than the age limit; if the total is over the cap, the oldest until it is
        LOW_WATER of the cap (so the next few stores need no listing)."""
        files = self.files()
        total = sum(size for _, size, _ in files)
        target = self.max_bytes if total <= self.max_bytes else LOW_WATER * self.max_bytes
        now, removed = time.time(), 0
        for mtime, size, path in files:
            if path == keep:
                continue
            if now - mtime > self.max_age_s or total > target:
                try:
                    path.unlink()
                    path.parent.rmdir()
                except OSError:
                    pass
                total -= size
                removed += 1
        self.bound, self.listed_at = total, time.monotonic()
        return removed
