"""Your own data files (``--data``): CSV, .npz, .npy pairs; never executing code; clear errors."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from descentlab.cli import main
from descentlab.data import UserDataError, load_user_data


def write_csv(path, header, rows):
    path.write_text("\n".join([",".join(header)] + [",".join(map(str, r)) for r in rows]) + "\n")
    return path


def test_csv_round_trip_with_text_labels(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    names = np.array(["setosa", "virginica", "versicolor"])[rng.integers(0, 3, 30)]
    rows = [[*map(repr, x), lab] for x, lab in zip(X.tolist(), names)]
    path = write_csv(tmp_path / "flowers.csv", ["a", "b", "c", "species"], rows)
    info = load_user_data(path, test_fraction=0.0, standardize=False, dtype=np.float64)
    Xl, yl = (t.numpy() for t in info.train.tensors)
    np.testing.assert_array_equal(Xl, X)
    # Classes in sorted order: setosa 0, versicolor 1, virginica 2.
    expected = np.array([sorted(set(names)).index(n) for n in names])
    np.testing.assert_array_equal(yl, expected)
    assert (info.task, info.n_classes, info.in_features, info.name) == (
        "classification", 3, 3, "flowers")


def test_target_column_by_name_and_regression_inferred(tmp_path):
    rows = [[i * 0.5, i, 3 * i] for i in range(10)]
    path = write_csv(tmp_path / "r.csv", ["y", "x1", "x2"], rows)
    info = load_user_data(path, target="y", test_fraction=0.0, standardize=False)
    assert info.task == "regression" and info.out_features == 1
    np.testing.assert_allclose(info.train.tensors[1].numpy()[:, 0], [r[0] for r in rows])
    np.testing.assert_allclose(info.train.tensors[0].numpy(), [r[1:] for r in rows])


def test_split_and_standardization_use_the_training_part(tmp_path):
    rng = np.random.default_rng(1)
    rows = [[*rng.normal(5, 3, 2).round(6), int(i % 2)] for i in range(50)]
    info = load_user_data(write_csv(tmp_path / "s.csv", ["u", "v", "t"], rows), seed=3)
    Xtr = info.train.tensors[0].numpy().astype(np.float64)
    assert len(info.train) == 40 and len(info.test) == 10
    np.testing.assert_allclose(Xtr.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(Xtr.std(axis=0), 1, atol=1e-5)


@pytest.mark.parametrize("text, target, needle", [
    ("", None, "is empty; a CSV needs a header row"),
    ("a,b\n", None, "has a header but no data rows"),
    ("a,b\n1,2\n", "c", "has no column 'c'; its columns are a, b"),
    ("a,b,y\n1,2,0\n3,x,1\n", None, "line 3, column 'b' holds 'x', not a number"),
    ("a,b,y\n1,2,0\n3,4\n", None, "line 3 has 2 cells but the header has 3 columns"),
    ("a,b,y\n1,2,0\n3,nan,1\n", None, "line 3, column 'b' is 'nan'"),
    ("a,b,y\n1,,0\n3,4,1\n", None, "line 2, column 'b' is empty"),
    ("a,a,y\n1,2,0\n", None, "'a' appear more than once"),
    ("a,b,y\n1,2,0.5\n3,4,1\n", None, None),
])
def test_csv_errors_name_the_place(tmp_path, text, target, needle):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    if needle is None:  # a valid file, for contrast
        assert load_user_data(path, test_fraction=0.0).task == "regression"
        return
    with pytest.raises(UserDataError, match=needle.replace("(", r"\(")):
        load_user_data(path, target=target)


def test_task_inference_and_overrides(tmp_path):
    many = write_csv(tmp_path / "m.csv", ["x", "y"], [[i, i % 40] for i in range(80)])
    with pytest.raises(UserDataError, match="40 distinct values.*--task classification or --task"):
        load_user_data(many)
    assert load_user_data(many, task="regression").task == "regression"
    assert load_user_data(many, task="classification").n_classes == 40
    floats = write_csv(tmp_path / "f.csv", ["x", "y"], [[i, i / 3] for i in range(10)])
    with pytest.raises(UserDataError, match="non-integer values"):
        load_user_data(floats, task="classification")
    one = write_csv(tmp_path / "o.csv", ["x", "y"], [[i, 1] for i in range(10)])
    with pytest.raises(UserDataError, match="at least two classes"):
        load_user_data(one)


def test_npz_and_npy_pair_and_images(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.integers(0, 256, (20, 6, 6)).astype(np.uint8)
    y = np.arange(20) % 4
    np.savez(tmp_path / "imgs.npz", X=X, y=y)
    info = load_user_data(tmp_path / "imgs.npz", test_fraction=0.0)
    assert info.image_shape == (1, 6, 6) and info.in_features == 36 and info.n_classes == 4
    np.testing.assert_allclose(info.train.tensors[0].numpy(), X.reshape(20, -1) / 255, rtol=1e-6)
    np.save(tmp_path / "X.npy", X.reshape(20, -1).astype(np.float64))
    np.save(tmp_path / "y.npy", y)
    pair = load_user_data(tmp_path / "X.npy", target=str(tmp_path / "y.npy"), test_fraction=0.0,
                          standardize=False)
    np.testing.assert_array_equal(pair.train.tensors[1].numpy(), y)
    with pytest.raises(UserDataError, match="name the .npy file of targets with --target"):
        load_user_data(tmp_path / "X.npy")
    np.savez(tmp_path / "nox.npz", inputs=X, y=y)
    with pytest.raises(UserDataError, match="has arrays inputs, y but no X"):
        load_user_data(tmp_path / "nox.npz")
    Xn = rng.normal(size=(5, 2))
    Xn[3, 1] = np.nan
    np.savez(tmp_path / "nan.npz", X=Xn, y=np.arange(5) % 2)
    with pytest.raises(UserDataError, match="nan at row 3, column 1"):
        load_user_data(tmp_path / "nan.npz")
    np.savez(tmp_path / "ragged.npz", X=rng.normal(size=(4, 2)), y=np.arange(5) % 2)
    with pytest.raises(UserDataError, match="4 input rows but 5 targets"):
        load_user_data(tmp_path / "ragged.npz")


class _Marker:
    """Unpickling this would create a file: proof that loading ran code."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_pickled_arrays_are_never_loaded(tmp_path):
    marker = tmp_path / "executed"
    objects = np.empty(3, dtype=object)
    objects[:] = [_Marker(str(marker))] * 3
    with open(tmp_path / "evil.npy", "wb") as f:
        np.lib.format.write_array(f, objects, allow_pickle=True)
    np.save(tmp_path / "y.npy", np.arange(3))
    with pytest.raises(UserDataError, match="holds Python objects, which are not loaded"):
        load_user_data(tmp_path / "evil.npy", target=str(tmp_path / "y.npy"))
    with open(tmp_path / "evil.npz", "wb") as f:
        np.savez(f, X=np.zeros((3, 1)), y=objects)
    with pytest.raises(UserDataError, match="holds Python objects"):
        load_user_data(tmp_path / "evil.npz")
    assert not marker.exists()
    # A pickle with a .npy name is not an .npy file either.
    (tmp_path / "p.npy").write_bytes(pickle.dumps(np.zeros(3)))
    with pytest.raises(UserDataError, match="not a readable .npy file|Python objects"):
        load_user_data(tmp_path / "p.npy", target=str(tmp_path / "y.npy"))


# ------------------------------------------------------------------ through the CLI
def test_cli_trains_a_csv_regression_to_the_least_squares_fit(tmp_path, capsys):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 3))
    y = X @ np.array([1.5, -2.0, 0.5]) + 3 + 0.1 * rng.normal(size=200)
    rows = [[*np.round(x, 8), round(t, 8)] for x, t in zip(X, y)]
    path = write_csv(tmp_path / "house.csv", ["a", "b", "c", "price"], rows)
    assert main(["train", "--data", str(path), "--target", "price", "--hidden", "none",
                 "--optimizer", "newton", "--epochs", "3", "--quiet",
                 "--out", str(tmp_path / "o")]) == 0
    printed = capsys.readouterr().out
    train_mse = float(printed.split("train   loss")[1].split()[0])
    test_mse = float(printed.split("test    loss")[1].split()[0])
    # The oracle: least squares on the same training rows (the split is load_user_data's).
    info = load_user_data(path, target="price", dtype=np.float64)
    Xt, yt = (t.numpy() for t in info.train.tensors)
    A = np.hstack([Xt, np.ones((len(Xt), 1))])
    best = np.mean((A @ np.linalg.lstsq(A, yt, rcond=None)[0] - yt) ** 2)
    assert train_mse == pytest.approx(best, abs=6e-5)  # printed with 4 decimals
    assert test_mse < 0.05  # the noise variance is 0.01


def test_cli_classifies_a_csv_and_reports_train_and_test(tmp_path, capsys):
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 2, 120)
    X = rng.normal(size=(120, 2)) + 3 * labels[:, None]
    rows = [[*np.round(x, 6), ["cat", "dog"][t]] for x, t in zip(X, labels)]
    path = write_csv(tmp_path / "pets.csv", ["w", "h", "kind"], rows)
    assert main(["train", "--data", str(path), "--epochs", "30", "--lr", "0.05", "--quiet",
                 "--out", str(tmp_path / "o")]) == 0
    printed = capsys.readouterr().out
    assert "trained pets (mlp)" in printed
    test_acc = float(printed.split("test    loss")[1].split("accuracy")[1].split()[0])
    assert test_acc >= 0.9  # separable classes, 24 held-out rows


def test_cli_data_errors_are_one_line_exit_2(tmp_path, capsys):
    path = write_csv(tmp_path / "d.csv", ["a", "b"], [[1, 0], ["x", 1]])
    assert main(["train", "--data", str(path), "--out", str(tmp_path / "o")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "line 3, column 'a' holds 'x', not a number" in line
