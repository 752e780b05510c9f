"""The download folder: under its cap after every store, old files gone, and no listing per store."""
import os
import time

from lora_demo.ui import downloads as dl
from lora_demo.ui.downloads import Downloads


def test_the_folder_stays_under_its_cap_after_every_store(tmp_path):
    d = Downloads(tmp_path, max_bytes=10_000)
    paths = []
    for i in range(60):
        paths.append(d.store("adapter.zip", os.urandom(700) + bytes([i])))
        on_disk = sum(p.stat().st_size for p in tmp_path.glob("*/*"))
        assert on_disk <= 10_000
        assert paths[-1].exists()  # the file just offered is never the one removed
    assert not paths[0].exists()  # the oldest went first


def test_the_same_content_is_stored_once(tmp_path):
    d = Downloads(tmp_path, max_bytes=10_000)
    assert d.store("a.zip", b"same") == d.store("a.zip", b"same")
    assert len(list(tmp_path.glob("*/*"))) == 1


def test_stores_well_under_the_cap_do_not_list_the_folder(tmp_path, monkeypatch):
    d = Downloads(tmp_path, max_bytes=100_000)
    listings = []
    original = d.files
    monkeypatch.setattr(d, "files", lambda: listings.append(1) or original())
    for _ in range(20):
        d.store("a.zip", os.urandom(1000))
    assert len(listings) == 1  # the first store lists it; the bound says the other 19 cannot pass the cap
    for _ in range(150):
        d.store("a.zip", os.urandom(1000))
    assert sum(p.stat().st_size for p in tmp_path.glob("*/*")) <= 100_000
    assert len(listings) < 30  # over the cap it prunes to 90 %, so the next ~10 stores need no listing


def test_old_files_go_once_the_folder_is_listed_again(tmp_path, monkeypatch):
    d = Downloads(tmp_path, max_bytes=100_000, max_age_s=60)
    old = d.store("a.zip", b"old")
    past = time.time() - 120
    os.utime(old, (past, past))
    d.store("a.zip", b"new")
    assert old.exists()  # listed a moment ago: not yet looked at again
    monkeypatch.setattr(dl, "RESCAN_S", 0.0)
    d.store("a.zip", b"newer")
    assert not old.exists()
