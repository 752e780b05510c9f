"""Datasets come from scikit-learn, are standardised on the train split, and shift as promised."""
import numpy as np
import pytest
from sklearn import datasets as skd
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from lora_demo.config import DATASET_NAMES, DataConfig, ShiftConfig
from lora_demo.data import DATASETS, grid, make_task, make_tasks, plot_window


def test_registry_matches_the_config_choices():
    assert tuple(DATASETS) == DATASET_NAMES


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_every_dataset_is_deterministic_and_split(name):
    cfg = DataConfig(dataset=name, n_samples=200, n_classes=3, test_fraction=0.25)
    a, b = make_task(name, cfg, 5), make_task(name, cfg, 5)
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.X_train, make_task(name, cfg, 6).X_train)
    assert len(a.X_train) == 150 and len(a.X_test) == 50 and a.X_train.dtype == np.float32
    assert a.n_classes == (2 if name in ("moons", "circles") else 3)
    assert set(np.unique(a.y_train)) == set(range(a.n_classes))


def test_standardised_with_a_scaler_fitted_on_train_only():
    cfg = DataConfig(dataset="moons", n_samples=300, noise=0.1, test_fraction=0.3)
    task = make_task("moons", cfg, 3)
    X, y = skd.make_moons(n_samples=300, noise=0.1, random_state=3)
    X_tr, X_te, _, _ = train_test_split(X, y, test_size=0.3, random_state=3, stratify=y)
    sc = StandardScaler().fit(X_tr)
    np.testing.assert_allclose(task.X_train, sc.transform(X_tr), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(task.X_test, sc.transform(X_te), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(task.X_train.mean(0), 0, atol=1e-5)
    assert abs(task.X_test.mean(0)).max() > 1e-4  # the test split was not used to fit


def test_shifts():
    data = DataConfig(n_samples=200)
    src, same = make_tasks(data, ShiftConfig(kind="none"))
    fresh = make_task("moons", data, data.seed + 1)
    np.testing.assert_array_equal(same.X_train, fresh.X_train)
    _, rot = make_tasks(data, ShiftConfig(kind="rotate", angle=90))
    # a quarter turn counter-clockwise: (x, y) -> (-y, x)
    np.testing.assert_allclose(rot.X_train, np.stack([-fresh.X_train[:, 1], fresh.X_train[:, 0]], 1), atol=1e-6)
    np.testing.assert_array_equal(rot.y_train, fresh.y_train)
    _, mv = make_tasks(data, ShiftConfig(kind="translate", offset=-1.5))
    np.testing.assert_allclose(mv.X_test - fresh.X_test, np.tile([-1.5, 0], (len(fresh.X_test), 1)), atol=1e-6)
    _, sc = make_tasks(data, ShiftConfig(kind="scale", factor=2))
    np.testing.assert_allclose(sc.X_train, 2 * fresh.X_train, atol=1e-6)
    _, other = make_tasks(DataConfig(n_classes=4), ShiftConfig(kind="dataset", dataset="blobs"))
    assert other.n_classes == 4 and src.n_classes == 2


def test_window_and_grid():
    src, tgt = make_tasks(DataConfig(), ShiftConfig(kind="scale", factor=3))
    w = plot_window(src, tgt)
    assert all(np.abs(a).max() < w for t in (src, tgt) for a in (t.X_train, t.X_test))
    ticks, pts = grid(w, 100)
    assert pts.shape == (10000, 2) and ticks[0] == -w and ticks[-1] == w
    assert np.array_equal(pts[:100, 0], ticks) and np.all(pts[:100, 1] == -w)  # row-major: y rows
