"""The gradients-through-time lesson: measurements against torch and closed forms, and the
lesson's claims checked on the numbers its own run measured."""

import math
import re

import numpy as np
import pytest

from descentlab.lab import sequence as S

torch = pytest.importorskip("torch")


def _torch_norms(curve):
    """Replay a measurement with torch's cell, from the same weights and inputs."""
    cell = curve.model
    hidden = cell.hidden_size
    t_cell = (torch.nn.RNNCell if curve.cell == "rnn" else torch.nn.LSTMCell)(1, hidden).double()
    t_cell.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                            for k, v in cell.state_dict().items()})
    xs, readout = curve.inputs
    hs, state = [], None
    for t in range(xs.shape[0]):
        state = t_cell(torch.from_numpy(xs[t]), state)
        hs.append(state[0] if isinstance(state, tuple) else state)
    loss = (hs[-1] @ torch.from_numpy(readout)).mean()
    grads = torch.autograd.grad(loss, hs)
    return np.array([g.norm().item() for g in grads])


@pytest.mark.parametrize("kwargs", [
    dict(cell="rnn", recurrent_scale=0.5), dict(cell="rnn", recurrent_scale=3.0),
    dict(cell="lstm"), dict(cell="lstm", forget_bias=3.0),
])
def test_gradient_through_time_matches_torch_and_closed_forms(kwargs):
    curve = S.gradient_through_time(steps=25, hidden_size=12, batch_size=5, **kwargs)
    np.testing.assert_allclose(curve.norms, _torch_norms(curve), rtol=1e-9)
    # The last step's gradient is the readout itself: ∂(mean_n v·h_T[n])/∂h_T = v/N per row.
    _, readout = curve.inputs
    assert curve.norms[-1] == pytest.approx(np.linalg.norm(readout) / math.sqrt(5), rel=1e-12)
    if kwargs.get("forget_bias") is not None:
        bias = curve.model.bias_ih.detach().numpy() + curve.model.bias_hh.detach().numpy()
        np.testing.assert_allclose(bias[12:24], 3.0)


def test_tanh_rnn_gradient_obeys_the_spectral_bound():
    """|tanh'| ≤ 1, so one step back multiplies the gradient norm by at most ‖W_hh‖₂."""
    for scale in (0.5, 1.0, 3.0):
        c = S.gradient_through_time("rnn", recurrent_scale=scale, steps=30)
        assert np.all(c.norms[:-1] <= c.spectral_norm * c.norms[1:] * (1 + 1e-9))


def test_memory_task_batch_targets_the_first_sign():
    x, y = S.memory_task_batch(np.random.default_rng(0), 7, 9)
    assert x.shape == (7, 9, 1) and set(np.unique(x)) == {-1.0, 1.0}
    np.testing.assert_array_equal(y, x[0])


def test_errors_name_the_fix():
    with pytest.raises(ValueError, match="unknown cell 'gru'; choose one of rnn, lstm"):
        S.gradient_through_time("gru")
    with pytest.raises(ValueError, match="forget_bias applies to cell='lstm' only"):
        S.gradient_through_time("rnn", forget_bias=1.0)
    with pytest.raises(ValueError, match="clip must be positive"):
        S.train_memory_task(clip=0.0)


@pytest.fixture(scope="module")
def lesson_run(tmp_path_factory):
    pytest.importorskip("matplotlib")
    from descentlab.lab import gallery as G

    out = tmp_path_factory.mktemp("gallery")
    report = G.run_gallery(out, ["sequence_gradients"])
    return out, report.outcomes[0]


def test_lesson_is_registered_and_draws_its_figure(lesson_run):
    from matplotlib.image import imread

    out, outcome = lesson_run
    assert outcome.error is None, outcome.error
    assert outcome.images == ["sequence_gradients.png"]
    height, width = imread(out / "sequence_gradients.png").shape[:2]
    assert width > 2 * height > 300


def test_lesson_claims_hold_on_its_measured_numbers(lesson_run):
    _, outcome = lesson_run
    n, text = outcome.numbers, outcome.text
    small = n["tanh RNN, W_hh scale 0.5"]
    large = n["tanh RNN, W_hh scale 3.0"]
    lstm, lstm_open = n["LSTM, torch init"], n["LSTM, forget bias 3.0"]
    # Vanishing: many orders of magnitude lost over 60 steps; exploding: many gained.
    assert small["ratio"] < 1e-6 and small["per_step"] < 1
    assert large["ratio"] > 1e3 and large["per_step"] > 1
    # The LSTM with torch's init (forget gate ≈ ½) vanishes too, as the text says; opening the
    # forget gate keeps the gradient within two orders of magnitude end to end.
    assert lstm["ratio"] < 1e-6
    assert 1e-2 < lstm_open["ratio"] < 1e2
    assert lstm_open["per_step"] > lstm["per_step"] and lstm_open["per_step"] > small["per_step"]
    # Clipping: the unclipped run became non-finite, the clipped one stayed finite and learnt.
    unclipped, clipped = n["tanh RNN, no clipping"], n["tanh RNN, clip 1"]
    assert unclipped["diverged_at"] is not None and clipped["diverged_at"] is None
    assert clipped["final_loss"] < 0.5 * clipped["first_loss"]
    # The prose quotes exactly these measurements.
    assert f"{small['ratio']:.2e}" in text and f"{large['ratio']:.2e}" in text
    assert f"non-finite at update {unclipped['diverged_at']}" in text
    assert re.search(r"to \d\.\d+ \(mean of the last 10\)", text)


def test_clipping_run_records_raw_norms_above_the_clip():
    run = S.train_memory_task("rnn", clip=1.0, iterations=30, seed=1)
    assert run.finite and np.all(np.isfinite(run.losses))
    assert run.grad_norms.max() > 1.0  # clipping was active, not a no-op
    free = S.train_memory_task("rnn", clip=None, iterations=60, seed=1)
    assert not free.finite and free.diverged_at == len(free.losses) - 1
