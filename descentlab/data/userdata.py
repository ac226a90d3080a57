"""Your own data for training: a CSV with a header, an ``.npz`` with arrays ``X`` and ``y``, or a
pair of ``.npy`` files, loaded into the same ``DatasetInfo`` as the built-in datasets.

Loading never runs code from the file: CSV cells are read as text and converted with ``float``,
NumPy files are read with ``allow_pickle=False`` (no Python objects). Every problem is reported
with the file and, for a cell, its line and column: a missing column, a non-numeric, empty, NaN
or infinite cell, a row with the wrong number of cells, an empty file, arrays that do not pair up.
"""

from __future__ import annotations

import csv
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..autograd import dtypes as _dt
from .dataset import TensorDataset
from .registry import DatasetInfo, _split

__all__ = ["MAX_INFERRED_CLASSES", "UserDataError", "load_user_data"]

#: An integer-valued target with at most this many distinct values is read as class labels when
#: no task is given; with more, the task must be named.
MAX_INFERRED_CLASSES = 20

TASKS = ("classification", "regression")


class UserDataError(ValueError):
    """A data file the user gave cannot be used; the message names the file, the place, the fix."""


def load_user_data(path: str | os.PathLike, target: str | None = None, task: str | None = None,
                   test_fraction: float = 0.2, seed: int = 0, dtype: Any = None,
                   standardize: bool = True) -> DatasetInfo:
    """Load a data file into a :class:`~descentlab.data.registry.DatasetInfo`.

    Formats, told apart by the file's suffix:

    - ``.csv``: a header row of column names, then one sample per row; ``target`` names the
      target column (default: the last). Feature cells must be numbers; target cells may be
      text labels (classification).
    - ``.npz``: arrays ``X`` (inputs) and ``target`` (default ``"y"``).
    - ``.npy``: the inputs; ``target`` is the path of the ``.npy`` holding the targets.

    Inputs of shape (N, H, W) or (N, C, H, W) are images (``image_shape`` set, rows flattened;
    uint8 pixels scaled to [0, 1]); 2-D inputs are standardized with the training split's mean
    and standard deviation (``standardize``).

    The task is inferred when clear: text labels, or integers with at most
    :data:`MAX_INFERRED_CLASSES` distinct values, are classification; non-integer numbers or
    several target columns are regression. Class labels are mapped to 0..K−1 in sorted order.

    Args:
        path: the data file.
        target: the target column (CSV), array name (``.npz``) or file (``.npy``).
        task: ``"classification"`` or ``"regression"`` (``None``: inferred, see above).
        test_fraction: fraction of the samples held out as the test set (seeded shuffle).
        seed: seeds the split.
        dtype: float dtype of the inputs (default ``dl.get_default_dtype()``).
        standardize: standardize tabular inputs.

    Raises:
        UserDataError: naming what is wrong and where.
    """
    path = Path(path)
    if task is not None and task not in TASKS:
        raise UserDataError(f"unknown task {task!r}; choose classification or regression")
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise UserDataError(f"data file {path} {what}; give a .csv, .npz or .npy file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        X, y = _read_csv(path, target)
    elif suffix == ".npz":
        X, y = _read_npz(path, target or "y")
    elif suffix == ".npy":
        X, y = _read_npy_pair(path, target)
    else:
        raise UserDataError(f"{path}: unknown data format {suffix or '(no suffix)'!r}; give a "
                            ".csv with a header, an .npz with arrays X and y, or an .npy of "
                            "inputs with --target naming the .npy of targets")
    X, image_shape = _inputs(path, X)
    y, task, n_classes = _targets(path, y, task)
    if len(y) != len(X):
        raise UserDataError(f"{path}: {len(X)} input rows but {len(y)} targets; they must pair up")
    if len(X) < 2:
        raise UserDataError(f"{path}: only {len(X)} sample(s); training needs at least 2")
    Xtr, ytr, Xte, yte = _split(X, y, test_fraction, seed)
    if standardize and image_shape is None:
        # Statistics from the training split only, so no test information leaks in.
        mean, std = Xtr.mean(axis=0), Xtr.std(axis=0)
        std[std == 0] = 1.0
        Xtr = (Xtr - mean) / std
        Xte = None if Xte is None else (Xte - mean) / std
    fdtype = _dt.resolve(dtype)
    ydtype = np.int64 if task == "classification" else fdtype

    def wrap(Xs: np.ndarray, ys: np.ndarray) -> TensorDataset:
        return TensorDataset(Xs.astype(fdtype), ys.astype(ydtype))

    return DatasetInfo(
        name=path.stem, task=task, train=wrap(Xtr, ytr),
        test=None if Xte is None else wrap(Xte, yte),
        input_shape=(X.shape[1],), in_features=int(X.shape[1]),
        out_features=n_classes if task == "classification" else int(y.shape[1]),
        n_classes=n_classes, image_shape=image_shape)


# ------------------------------------------------------------------------------------- readers

def _read_csv(path: Path, target: str | None) -> tuple[np.ndarray, np.ndarray]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise UserDataError(f"{path}: not UTF-8 text (byte {e.start}); save the CSV as "
                            "UTF-8") from None
    reader = csv.reader(text.splitlines())
    rows: list[tuple[int, list[str]]] = []
    for row in reader:
        if row and any(cell.strip() for cell in row):
            rows.append((reader.line_num, row))
    if not rows:
        raise UserDataError(f"{path} is empty; a CSV needs a header row of column names, then "
                            "one row per sample")
    (_, header), body = rows[0], rows[1:]
    names = [h.strip() for h in header]
    if any(not n for n in names):
        raise UserDataError(f"{path}: the header (line 1) has an empty column name at column "
                            f"{names.index('') + 1}; name every column")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UserDataError(f"{path}: column name(s) {', '.join(map(repr, twice))} appear more "
                            "than once in the header; make them unique")
    if len(names) < 2:
        raise UserDataError(f"{path}: only one column ({names[0]!r}); a CSV needs feature "
                            "columns and a target column, separated by commas")
    if not body:
        raise UserDataError(f"{path} has a header but no data rows")
    if target is None:
        target = names[-1]
    if target not in names:
        raise UserDataError(f"{path} has no column {target!r}; its columns are "
                            f"{', '.join(names)} (choose the target with --target)")
    t = names.index(target)
    features = np.empty((len(body), len(names) - 1), dtype=np.float64)
    labels: list[str] = []
    for i, (line, row) in enumerate(body):
        if len(row) != len(names):
            raise UserDataError(f"{path}: line {line} has {len(row)} cells but the header has "
                                f"{len(names)} columns; every row needs one cell per column")
        j = 0
        for c, cell in enumerate(row):
            if c == t:
                label = cell.strip()
                if not label:
                    raise UserDataError(f"{path}: line {line}, target column {target!r} is "
                                        "empty; fill it or drop the row")
                labels.append(label)
                continue
            features[i, j] = _number(path, cell, line, names[c])
            j += 1
    return features, _label_array(path, labels, target)


def _number(path: Path, cell: str, line: int, column: str) -> float:
    text = cell.strip()
    where = f"{path}: line {line}, column {column!r}"
    if not text:
        raise UserDataError(f"{where} is empty; fill it or drop the row")
    try:
        value = float(text)
    except ValueError:
        raise UserDataError(f"{where} holds {text!r}, not a number; features must be numeric "
                            "(encode categories as numbers, or drop the column)") from None
    if not np.isfinite(value):
        raise UserDataError(f"{where} is {text!r}; fill the missing value or drop the row")
    return value


def _label_array(path: Path, labels: list[str], target: str) -> np.ndarray:
    """Numeric targets as float64 (NaN/inf refused), otherwise the text labels as strings."""
    values = []
    for label in labels:
        try:
            values.append(float(label))
        except ValueError:
            return np.array(labels)
    y = np.array(values, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        raise UserDataError(f"{path}: target column {target!r} is {labels[bad[0]]!r} in data row "
                            f"{bad[0] + 1}; fill the missing value or drop the row")
    return y


def _load_npy(path: Path, what: str) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as e:
        if "allow_pickle" in str(e):
            raise UserDataError(f"{path} holds Python objects, which are not loaded (unpickling "
                                "can run code); save plain numeric arrays") from None
        raise UserDataError(f"{path}: not a readable .npy file for the {what} ({e})") from None
    except OSError as e:
        raise UserDataError(f"{path}: cannot read the {what}: {e.strerror or e}") from None


def _read_npz(path: Path, target: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile) as e:
        raise UserDataError(f"{path}: not a readable .npz file ({e}); save it with "
                            "numpy.savez(path, X=inputs, y=targets)") from None
    with archive:
        keys = list(archive.files)
        missing = [k for k in ("X", target) if k not in keys]
        if missing:
            raise UserDataError(f"{path} has arrays {', '.join(keys) or '(none)'} but no "
                                f"{' or '.join(missing)}; save the inputs as X and the targets "
                                "as y (or name the target array with --target)")
        try:
            return archive["X"], archive[target]
        except ValueError as e:
            if "allow_pickle" in str(e):
                raise UserDataError(f"{path} holds Python objects, which are not loaded "
                                    "(unpickling can run code); save plain numeric "
                                    "arrays") from None
            raise UserDataError(f"{path}: cannot read its arrays ({e})") from None


def _read_npy_pair(path: Path, target: str | None) -> tuple[np.ndarray, np.ndarray]:
    if target is None:
        raise UserDataError(f"{path} holds only the inputs; name the .npy file of targets with "
                            "--target (e.g. --target y.npy), or save both in one .npz as X and y")
    target_path = Path(target)
    if target_path.suffix.lower() != ".npy" or not target_path.is_file():
        raise UserDataError(f"the targets for {path} are read from --target {target!r}, which is "
                            "not an existing .npy file")
    return _load_npy(path, "inputs"), _load_npy(target_path, "targets")


# ------------------------------------------------------------------------------------- checks

def _inputs(path: Path, X: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int] | None]:
    """Inputs as float64 rows (N, d), and the image shape when they are images."""
    if X.dtype.kind not in "biuf":
        raise UserDataError(f"{path}: the inputs have dtype {X.dtype}, not numbers; save "
                            "numeric arrays")
    if X.ndim == 0 or len(X) == 0:
        raise UserDataError(f"{path}: the inputs are empty (shape {X.shape})")
    image_shape: tuple[int, int, int] | None = None
    if X.ndim == 1:
        X = X[:, None]
    elif X.ndim == 3:
        image_shape = (1, int(X.shape[1]), int(X.shape[2]))
    elif X.ndim == 4:
        image_shape = (int(X.shape[1]), int(X.shape[2]), int(X.shape[3]))
    elif X.ndim > 4:
        raise UserDataError(f"{path}: inputs of shape {X.shape} have too many dimensions; give "
                            "(N, features), (N, H, W) or (N, C, H, W)")
    scale = 255.0 if image_shape is not None and X.dtype == np.uint8 else 1.0
    X = X.reshape(len(X), -1).astype(np.float64) / scale
    bad = np.argwhere(~np.isfinite(X))
    if bad.size:
        row, col = (int(v) for v in bad[0])
        raise UserDataError(f"{path}: the inputs hold {X[row, col]} at row {row}, column {col} "
                            f"({len(bad)} non-finite value(s) in all); fill or drop them")
    return X, image_shape


def _targets(path: Path, y: np.ndarray, task: str | None) -> tuple[np.ndarray, str, int | None]:
    """Targets as class indices (classification) or float rows (N, k) (regression)."""
    if y.ndim == 0 or len(y) == 0:
        raise UserDataError(f"{path}: the targets are empty (shape {y.shape})")
    text = y.dtype.kind in "US"
    if not text and y.dtype.kind not in "biuf":
        raise UserDataError(f"{path}: the targets have dtype {y.dtype}, neither numbers nor text "
                            "labels")
    if y.ndim > 2 or (y.ndim == 2 and (text or y.shape[1] > 1) and task == "classification"):
        raise UserDataError(f"{path}: targets of shape {y.shape} are not one class label per "
                            "sample; classification needs shape (N,)")
    if not text:
        y = y.astype(np.float64)
        bad = np.argwhere(~np.isfinite(y))
        if bad.size:
            raise UserDataError(f"{path}: the targets hold {y[tuple(bad[0])]} at row "
                                f"{int(bad[0][0])}; fill or drop it")
        if y.ndim == 2 and y.shape[1] == 1 and task != "regression":
            y = y[:, 0]
    if task is None:
        task = _infer_task(path, y, text)
    if task == "regression":
        if text:
            raise UserDataError(f"{path}: the targets are text labels (e.g. {str(y[0])!r}); "
                                "regression needs numbers (or use --task classification)")
        return (y[:, None] if y.ndim == 1 else y), task, None
    if not text and np.any(y != np.round(y)):
        value = y[np.flatnonzero(y != np.round(y))[0]]
        raise UserDataError(f"{path}: the targets hold non-integer values (e.g. {value:g}); "
                            "classification needs class labels (or use --task regression)")
    classes, indices = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise UserDataError(f"{path}: every target is {classes[0]!r}; classification needs at "
                            "least two classes")
    return indices.astype(np.int64), task, len(classes)


def _infer_task(path: Path, y: np.ndarray, text: bool) -> str:
    if text:
        return "classification"
    if y.ndim == 2 or np.any(y != np.round(y)):
        return "regression"
    n = len(np.unique(y))
    if n <= MAX_INFERRED_CLASSES:
        return "classification"
    raise UserDataError(f"{path}: the targets are whole numbers with {n} distinct values, which "
                        "could be classes or quantities; say which with --task classification "
                        "or --task regression")
