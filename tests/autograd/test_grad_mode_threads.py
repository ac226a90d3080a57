"""Grad mode is per thread, as in PyTorch: no_grad in one thread never disables another's graph."""

from __future__ import annotations

import threading

import descentlab as dl
from descentlab.autograd.function import is_grad_enabled


def test_no_grad_in_another_thread_leaves_this_one_recording():
    inside, release = threading.Event(), threading.Event()
    seen = {}

    def evaluator() -> None:
        with dl.no_grad():
            seen["worker"] = is_grad_enabled()
            inside.set()
            release.wait(10)

    t = threading.Thread(target=evaluator)
    t.start()
    inside.wait(10)
    try:
        w = dl.tensor([3.0], requires_grad=True)
        loss = (w * w).sum()
        loss.backward()
        assert is_grad_enabled() and w.grad.tolist() == [6.0]
    finally:
        release.set()
        t.join()
    assert seen["worker"] is False


def test_a_new_thread_starts_with_grad_enabled():
    result = {}
    with dl.no_grad():
        t = threading.Thread(target=lambda: result.setdefault("on", is_grad_enabled()))
        t.start()
        t.join()
    assert result["on"] is True
