"""The demo's data: scikit-learn's bundled digits, or the user's own ``.npz`` file."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np

__all__ = ["Dataset", "load_digits", "load_npz", "load", "split_standardize"]

# The share of samples held out for testing when a data set has no test split.
TEST_FRACTION = 0.2
# The split is a fixed function of the data, not of the training seed.
SPLIT_SEED = 0


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A classification data set, standardised with the training statistics.

    Attributes:
      name: where it came from (``"digits"`` or the file name).
      x_train, y_train, x_test, y_test: float32 features ``(n, d)`` and int32
        labels ``(n,)`` in ``0 .. num_classes - 1``.
      num_classes: the number of classes.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int

    @property
    def num_features(self) -> int:
        return int(self.x_train.shape[1])

    def describe(self) -> str:
        return (
            f"{self.name}: {len(self.y_train)} training and {len(self.y_test)} test samples, "
            f"{self.num_features} features, {self.num_classes} classes"
        )


# What --data accepts, said wherever a file is refused.
NPZ = (
    "the demo reads a .npz file (numpy.savez or savez_compressed) holding arrays x and y, "
    "optionally x_test and y_test"
)


def _error(message: str) -> ValueError:
    return ValueError(f"jaxact demo: argument 'data': {message}")


def _features(x: Any, what: str) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise _error(f"{what} must be numeric, got dtype {x.dtype}")
    if x.ndim < 2:
        raise _error(f"{what} must have shape (samples, features...), got shape {x.shape}")
    x = x.reshape(len(x), -1).astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise _error(f"{what} contains NaN or infinite values")
    return x


def _labels(y: Any, n: int, what: str, xname: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise _error(f"{what} must have shape ({n},) to match {xname}, got shape {y.shape}")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise _error(f"{what} must hold integer class labels")
    elif y.dtype.kind not in "biu":
        raise _error(f"{what} must hold integer class labels, got dtype {y.dtype}")
    return y.astype(np.int64)


def split_standardize(
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
) -> Dataset:
    """Splits off a stratified test set (unless given) and standardises the features.

    Labels are mapped to ``0 .. K-1`` in sorted order; features are centred and
    scaled by the training set's mean and standard deviation (constant features
    are only centred).
    """
    if x_test is None:
        rng = np.random.default_rng(SPLIT_SEED)
        test = np.zeros(len(y), bool)
        for c in np.unique(y):
            members = np.flatnonzero(y == c)
            rng.shuffle(members)
            test[members[: int(round(TEST_FRACTION * len(members)))]] = True
        x, x_test, y, y_test = x[~test], x[test], y[~test], y[test]
    assert y_test is not None
    classes, y_train = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise _error(f"needs at least 2 classes in the training labels, got {len(classes)}")
    unseen = np.setdiff1d(y_test, classes)
    if len(unseen):
        raise _error(f"test labels {unseen.tolist()[:5]} do not occur in the training labels")
    if len(y_test) == 0:
        raise _error("the test set is empty (too few samples)")
    mean = x.mean(0)
    std = x.std(0)
    std[std == 0] = 1.0
    return Dataset(
        name=name,
        x_train=((x - mean) / std).astype(np.float32),
        y_train=y_train.astype(np.int32),
        x_test=((x_test - mean) / std).astype(np.float32),
        y_test=np.searchsorted(classes, y_test).astype(np.int32),
        num_classes=len(classes),
    )


def load_digits() -> Dataset:
    """scikit-learn's 8x8 digits (1797 samples, 10 classes; bundled, no download)."""
    from sklearn import datasets

    bunch = datasets.load_digits()
    return split_standardize("digits", np.asarray(bunch.data), np.asarray(bunch.target))


def load_npz(path: str | os.PathLike[str]) -> Dataset:
    """A data set from a ``.npz`` file with arrays ``x`` and ``y``.

    ``x`` is ``(samples, features...)`` (flattened), ``y`` integer class labels.
    Optional ``x_test`` and ``y_test`` give the test split; without them
    ``TEST_FRACTION`` of each class is held out.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise _error(f"{path!r} is a folder; {NPZ}")
    if not os.path.isfile(path):
        raise _error(f"no such file: {path!r}")
    try:
        arrays = np.load(path, allow_pickle=False)
    except Exception:  # noqa: BLE001 - any unreadable file is the user's input error
        # (numpy's message for a text file advises loading pickles unsafely)
        raise _error(f"{path!r} is not a .npz file; {NPZ}") from None
    if isinstance(arrays, np.ndarray):
        raise _error(f"{path!r} is a .npy file (one array); {NPZ}")
    with arrays:
        missing = [k for k in ("x", "y") if k not in arrays.files]
        if missing:
            raise _error(f"{path!r} has no array {missing[0]!r} (it has {sorted(arrays.files)})")
        x = _features(arrays["x"], "x")
        y = _labels(arrays["y"], len(x), "y", "x")
        has_test = [k in arrays.files for k in ("x_test", "y_test")]
        if any(has_test) and not all(has_test):
            raise _error("x_test and y_test must be given together")
        x_test = y_test = None
        if all(has_test):
            x_test = _features(arrays["x_test"], "x_test")
            if x_test.shape[1] != x.shape[1]:
                raise _error(
                    f"x_test has {x_test.shape[1]} features per sample, x has {x.shape[1]}"
                )
            y_test = _labels(arrays["y_test"], len(x_test), "y_test", "x_test")
    if len(x) < 2:
        raise _error(f"needs at least 2 samples, got {len(x)}")
    return split_standardize(os.path.basename(path), x, y, x_test, y_test)


def load(data: Any = None) -> Dataset:
    """``None`` → digits; a path → :func:`load_npz`; a :class:`Dataset` as is."""
    if data is None:
        return load_digits()
    if isinstance(data, Dataset):
        return data
    if isinstance(data, (str, os.PathLike)):
        return load_npz(data)
    raise _error(f"must be None, a path to a .npz file or a Dataset, got {type(data).__name__}")
