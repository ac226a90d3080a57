"""The issue's end-to-end accuracy checks: the whole stack (data, nn, optim, fit) learns."""

import pytest

from descentlab.train.run import RunConfig, train_run


def test_spiral_reaches_99_percent_train_accuracy(tmp_path):
    result = train_run(RunConfig(dataset="spiral", hidden=(16, 16), activation="relu",
                                 optimizer="adam", lr=0.01, batch_size=32, epochs=200, seed=0,
                                 out=str(tmp_path), verbose="none"))
    assert result.final["accuracy"] >= 0.99


def test_digits_mlp_reaches_97_percent_test_accuracy_with_adam(tmp_path):
    pytest.importorskip("sklearn")
    result = train_run(RunConfig(dataset="digits", hidden=(64,), activation="relu",
                                 optimizer="adam", lr=0.001, batch_size=32, epochs=50, seed=0,
                                 out=str(tmp_path), verbose="none"))
    assert result.test is not None
    assert result.test["accuracy"] >= 0.97
