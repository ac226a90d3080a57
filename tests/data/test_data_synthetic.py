"""Synthetic datasets: shapes, labels, noise, reproducibility; and the load_dataset registry."""

import numpy as np
import pytest

import descentlab as dl
from descentlab.data import (
    DataLoader,
    list_datasets,
    load_dataset,
    make_circle,
    make_gaussians,
    make_linear,
    make_moons,
    make_polynomial,
    make_sine,
    make_spiral,
    make_xor,
)

CLASSIFIERS = [make_circle, make_xor, make_gaussians, make_spiral, make_moons]
REGRESSORS = [make_linear, make_sine, make_polynomial]


@pytest.mark.parametrize("make", CLASSIFIERS)
def test_classification_shapes_and_balance(make):
    X, y = make(n_samples=301, noise=0.1, seed=0)
    assert X.shape == (301, 2) and X.dtype == dl.float32
    assert y.shape == (301,) and y.dtype == np.int64 and set(np.unique(y)) == {0, 1}
    if make not in (make_xor, make_circle):  # those two draw labels from the noisy position
        assert abs(np.sum(y == 1) - np.sum(y == 0)) <= 1


@pytest.mark.parametrize("make", CLASSIFIERS + REGRESSORS)
def test_seeded_and_global_reproducibility(make):
    a, b = make(seed=5), make(seed=5)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], make(seed=6)[0])
    dl.manual_seed(1)
    c = make()
    dl.manual_seed(1)
    np.testing.assert_array_equal(c[0], make()[0])
    assert make(seed=0, dtype=dl.float64)[0].dtype == dl.float64


@pytest.mark.parametrize("make", CLASSIFIERS + REGRESSORS)
@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "0.1"])
def test_bad_noise(make, bad):
    with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
        make(noise=bad)


@pytest.mark.parametrize("bad", [0, -5, 2.5])
def test_bad_n_samples(bad):
    with pytest.raises(ValueError, match="n_samples must be an integer"):
        make_spiral(n_samples=bad)


def test_clean_geometry():
    X, y = make_circle(400, noise=0.0, seed=0)
    r = np.linalg.norm(X, axis=1)
    assert np.all(r[y == 1] < 2.5) and np.all((r[y == 0] > 3.5) & (r[y == 0] <= 5.0))
    X, y = make_xor(400, noise=0.0, seed=0)
    assert np.all((X[:, 0] * X[:, 1] >= 0) == (y == 1)) and np.abs(X).min() >= 0.3
    X, y = make_gaussians(400, noise=0.0, seed=0)
    np.testing.assert_allclose(X[y == 1].mean(0), [2, 2], atol=0.2)
    # Noise makes XOR labels disagree with the clean quadrant for some points.
    X, y = make_xor(2000, noise=0.5, seed=0)
    assert 0.02 < np.mean((X[:, 0] * X[:, 1] >= 0) != (y == 1)) < 0.5


def test_spiral_classes_and_noise():
    X, y = make_spiral(300, n_classes=3, seed=0)
    assert np.bincount(y).tolist() == [100, 100, 100]
    assert np.linalg.norm(X, axis=1).max() < 5.0
    Xn, _ = make_spiral(300, noise=0.5, n_classes=3, seed=0)
    assert not np.allclose(np.sort(np.linalg.norm(X, axis=1)), np.sort(np.linalg.norm(Xn, axis=1)))
    with pytest.raises(ValueError, match="n_classes"):
        make_spiral(n_classes=1)


def test_regression():
    X, y = make_sine(500, noise=0.0, seed=0)
    assert X.shape == (500, 1) and y.shape == (500, 1) and y.dtype == dl.float32
    np.testing.assert_allclose(y, np.sin(X), atol=1e-6)
    X, y = make_polynomial(100, coefs=(1.0, 0.0, 2.0), noise=0.0, seed=0)
    np.testing.assert_allclose(y, 1 + 2 * X**2, rtol=1e-5)
    X, y = make_linear(300, n_features=3, noise=0.0, seed=0, dtype=dl.float64)
    A = np.hstack([X, np.ones((300, 1))])
    residual = y - A @ np.linalg.lstsq(A, y, rcond=None)[0]
    assert X.shape == (300, 3) and np.abs(residual).max() < 1e-10
    _, y_noisy = make_sine(5000, noise=0.3, seed=0, dtype=dl.float64)
    X, _ = make_sine(5000, noise=0.3, seed=0, dtype=dl.float64)
    assert abs(np.std(y_noisy - np.sin(X)) - 0.3) < 0.02


def test_registry_names_and_errors():
    names = list_datasets()
    for name in ("circle", "xor", "gaussians", "spiral", "moons", "linear", "sine", "polynomial",
                 "digits", "iris", "wine", "breast_cancer", "mnist", "fashion_mnist"):
        assert name in names
    with pytest.raises(ValueError, match="unknown dataset 'spirals'; valid names: circle, xor"):
        load_dataset("spirals")
    with pytest.raises(TypeError, match="unknown option.*noize.*accepts n_samples, noise"):
        load_dataset("spiral", noize=0.1)


def test_registry_synthetic():
    info = load_dataset("spiral", n_samples=200, noise=0.1, n_classes=3, seed=1,
                        test_fraction=0.25)
    assert (info.task, info.in_features, info.out_features, info.n_classes) == (
        "classification", 2, 3, 3)
    assert len(info.train) == 150 and len(info.test) == 50
    x, y = next(iter(DataLoader(info.train, batch_size=len(info.train))))
    assert x.shape == (150, 2) and x.dtype == dl.float32 and y.dtype == dl.int64
    again = load_dataset("spiral", n_samples=200, noise=0.1, n_classes=3, seed=1,
                         test_fraction=0.25)
    np.testing.assert_array_equal(again.test.tensors[0].numpy(), info.test.tensors[0].numpy())
    reg = load_dataset("Sine", dtype=dl.float64)
    assert reg.task == "regression" and reg.n_classes is None and reg.out_features == 1
    assert reg.test is None and reg.train.tensors[1].dtype == dl.float64
    with pytest.raises(ValueError, match="test_fraction"):
        load_dataset("moons", test_fraction=1.0)
    with pytest.raises(TypeError, match="seed must be an int"):
        load_dataset("moons", seed=None)


@pytest.mark.parametrize("name,shape,classes", [("digits", (1797, 64), 10), ("iris", (150, 4), 3),
                                                ("wine", (178, 13), 3),
                                                ("breast-cancer", (569, 30), 2)])
def test_registry_sklearn(name, shape, classes):
    pytest.importorskip("sklearn", reason="scikit-learn ships these datasets")
    info = load_dataset(name, seed=0)
    n = len(info.train) + len(info.test)
    assert n == shape[0] and info.in_features == shape[1] and info.n_classes == classes
    assert len(info.test) == round(0.2 * shape[0])
    X = info.train.tensors[0].numpy()
    np.testing.assert_allclose(X.mean(0), 0, atol=1e-4)  # standardized on the train split


def test_sklearn_missing_message(monkeypatch):
    import importlib

    real_import = importlib.import_module

    def fake(name, *a, **k):
        if name.startswith("sklearn"):
            raise ImportError("No module named 'sklearn'")
        return real_import(name, *a, **k)

    monkeypatch.setattr(importlib, "import_module", fake)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        load_dataset("iris")
