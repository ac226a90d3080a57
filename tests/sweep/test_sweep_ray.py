"""A real Ray local cluster runs a sweep, with the same numbers as the local backend."""

import pytest
from conftest import numbers

from descentlab.sweep.runner import run_sweep

ray = pytest.importorskip("ray", reason="ray is not installed: pip install 'descentlab[scale]' "
                          "to test the Ray backend")


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def test_ray_sweep_equals_local_sweep(cluster, tmp_path, small_spec):
    on_ray = run_sweep(small_spec, tmp_path / "ray.db", backend="ray", workers=2)
    local = run_sweep(small_spec, tmp_path / "local.db", backend="local", workers=2)
    assert on_ray.ran == local.ran == 8
    assert all(r["status"] == "done" for r in on_ray.rows)
    assert [numbers(r) for r in on_ray.rows] == [numbers(r) for r in local.rows]
    assert ray.is_initialized()          # a session it did not start is left running


def test_ray_resume_runs_only_unfinished(cluster, tmp_path, small_spec):
    trials = small_spec.trials()
    first = run_sweep(trials[:3], tmp_path / "s.db", backend="ray", workers=2)
    assert first.ran == 3
    rest = run_sweep(trials, tmp_path / "s.db", backend="ray", workers=2, resume=True)
    assert (rest.ran, rest.skipped) == (5, 3)
    assert len(rest.rows) == 8 and all(r["attempts"] == 1 for r in rest.rows)
