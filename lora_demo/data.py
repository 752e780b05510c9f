"""Toy 2-D classification tasks from scikit-learn generators, and the shifts that make a target task.

numpy and scikit-learn only: no torch, no gradio.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from sklearn import datasets as skd
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from .config import DataConfig, ShiftConfig

# every generator: (n_samples, noise, n_classes, seed) -> (X (n, 2) float, y (n,) int)
Generator = Callable[[int, float, int, int], tuple[np.ndarray, np.ndarray]]


def _moons(n, noise, k, seed):
    return skd.make_moons(n_samples=n, noise=noise, random_state=seed)


def _circles(n, noise, k, seed):
    return skd.make_circles(n_samples=n, noise=noise, factor=0.5, random_state=seed)


def _blobs(n, noise, k, seed):
    # noise widens the clusters: 0 gives tight blobs, 0.5 makes them touch
    return skd.make_blobs(n_samples=n, centers=k, cluster_std=0.6 + 3.0 * noise,
                          center_box=(-6, 6), random_state=seed)


def _gaussian_quantiles(n, noise, k, seed):
    X, y = skd.make_gaussian_quantiles(n_samples=n, n_features=2, n_classes=k, random_state=seed)
    jitter = np.random.default_rng(seed).normal(scale=noise, size=X.shape)
    return X + jitter, y


def _classification(n, noise, k, seed):
    # noise is the share of labels flipped at random
    return skd.make_classification(n_samples=n, n_features=2, n_informative=2, n_redundant=0,
                                   n_classes=k, n_clusters_per_class=1, class_sep=1.5,
                                   flip_y=noise * 0.4, random_state=seed)


DATASETS: dict[str, Generator] = {
    "moons": _moons,
    "circles": _circles,
    "blobs": _blobs,
    "gaussian_quantiles": _gaussian_quantiles,
    "classification": _classification,
}


@dataclass(frozen=True)
class Task:
    """One classification task, standardised with a scaler fitted on its train split."""
    name: str
    X_train: np.ndarray  # (n_train, 2) float32
    y_train: np.ndarray  # (n_train,) int64
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int


def make_task(name: str, cfg: DataConfig, seed: int) -> Task:
    X, y = DATASETS[name](cfg.n_samples, cfg.noise, cfg.n_classes, seed)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=cfg.test_fraction,
                                              random_state=seed, stratify=y)
    scaler = StandardScaler().fit(X_tr)  # fitted on the training split only
    f32 = lambda a: np.ascontiguousarray(scaler.transform(a), dtype=np.float32)  # noqa: E731
    return Task(name, f32(X_tr), y_tr.astype(np.int64), f32(X_te), y_te.astype(np.int64),
                int(y.max()) + 1)


def _map_points(task: Task, fn: Callable[[np.ndarray], np.ndarray], name: str) -> Task:
    g = lambda a: np.ascontiguousarray(fn(a), dtype=np.float32)  # noqa: E731
    return Task(name, g(task.X_train), task.y_train, g(task.X_test), task.y_test, task.n_classes)


def rotate(task: Task, degrees: float) -> Task:
    t = math.radians(degrees)
    R = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    return _map_points(task, lambda X: X @ R.T, f"{task.name}, rotated {degrees:g}°")


def translate(task: Task, offset: float) -> Task:
    return _map_points(task, lambda X: X + np.array([offset, 0.0]), f"{task.name}, moved {offset:+g} along x")


def scale(task: Task, factor: float) -> Task:
    return _map_points(task, lambda X: X * factor, f"{task.name}, scaled ×{factor:g}")


def make_tasks(data: DataConfig, shift: ShiftConfig) -> tuple[Task, Task]:
    """The source task and the shifted target task; the target is a fresh draw (seed + 1)."""
    source = make_task(data.dataset, data, data.seed)
    if shift.kind == "dataset":
        return source, make_task(shift.dataset, data, data.seed + 1)
    fresh = make_task(data.dataset, data, data.seed + 1)
    SHIFTS = {
        "none": lambda t: _map_points(t, lambda X: X, f"{t.name}, new draw"),
        "rotate": lambda t: rotate(t, shift.angle),
        "translate": lambda t: translate(t, shift.offset),
        "scale": lambda t: scale(t, shift.factor),
    }
    return source, SHIFTS[shift.kind](fresh)


def plot_window(*tasks: Task, margin: float = 0.5, least: float = 3.0) -> float:
    """Half-width of one square window centred on 0 that holds every point of the tasks."""
    reach = max(float(np.abs(a).max()) for t in tasks for a in (t.X_train, t.X_test))
    return float(max(least, math.ceil((reach + margin) * 2) / 2))


def grid(half_width: float, n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Axis ticks (n,) and the (n*n, 2) grid points, row-major: y rows, x columns."""
    ticks = np.linspace(-half_width, half_width, n, dtype=np.float32)
    xx, yy = np.meshgrid(ticks, ticks)
    return ticks, np.stack([xx.ravel(), yy.ravel()], axis=1)
