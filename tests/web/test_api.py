"""The playground's HTTP API: every endpoint, good and bad inputs, against closed forms."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the web extra (fastapi) is not installed")
pytest.importorskip("httpx", reason="FastAPI's TestClient needs httpx")

from fastapi.testclient import TestClient  # noqa: E402

from descentlab.web.app import create_app  # noqa: E402


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def _one_line_error(r, status: int, field: str | None = None) -> dict:
    assert r.status_code == status, r.text[:300]
    body = r.json()
    assert set(body) == {"error", "field"}
    assert "\n" not in body["error"] and body["error"]
    if field is not None:
        assert body["field"] == field, body
    return body


def test_page_and_static_files_are_served(client):
    r = client.get("/")
    assert r.status_code == 200 and "<canvas" in r.text
    for name in ("app.js", "network.js", "i18n.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200
    # No CDN: every script and stylesheet the page loads is local.
    assert "http://" not in r.text and "https://" not in r.text


def test_meta_lists_the_whole_family(client):
    meta = client.get("/api/meta").json()
    for name in ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "adamw",
                 "nadam", "radam", "adamax", "lion", "newton", "newton_cg", "bfgs", "lbfgs"):
        assert name in meta["race_optimizers"]
    assert meta["race_optimizers"]["adam"]["beta1"] == 0.9
    assert set(meta["datasets"]) == {"circle", "xor", "gaussians", "spiral", "moons", "plane",
                                     "multi_gaussian"}
    assert meta["features"] == ["x", "y", "x2", "y2", "xy", "sinx", "siny"]
    assert meta["limits"]["steps"] == 10_000 and meta["limits"]["grid"] == 400


def test_landscape_grid_matches_the_formula(client):
    r = client.post("/api/landscape", json={"function": "rosenbrock", "grid": 21})
    body = r.json()
    (x0, x1), (y0, y1) = body["domain"]
    gx, gy = np.meshgrid(np.linspace(x0, x1, 21), np.linspace(y0, y1, 21))
    expected = (1 - gx) ** 2 + 100 * (gy - gx ** 2) ** 2
    np.testing.assert_allclose(np.array(body["z"]), expected, rtol=1e-12)
    assert body["minima"][0]["location"] == [1.0, 1.0]


def test_formula_landscape_and_its_errors(client):
    r = client.post("/api/landscape", json={"formula": "x**2 + 3*sin(y)", "grid": 11})
    z = np.array(r.json()["z"])
    g = np.linspace(-3, 3, 11)
    np.testing.assert_allclose(z, g[None, :] ** 2 + 3 * np.sin(g[:, None]), rtol=1e-12)
    body = _one_line_error(client.post("/api/landscape", json={"formula": "x**2 + (y"}), 422,
                           "formula")
    assert "column" in body["error"]
    body = _one_line_error(client.post("/api/landscape",
                                       json={"formula": "__import__('os').system('id')"}),
                           422, "formula")
    assert "not allowed" in body["error"] or "not an allowed" in body["error"]
    _one_line_error(client.post("/api/landscape", json={"formula": "x**2"}), 422, "formula")
    _one_line_error(client.post("/api/landscape", json={"formula": "x" * 501}), 422, "formula")
    _one_line_error(client.post("/api/landscape", json={"function": "nope"}), 422, "function")
    _one_line_error(client.post("/api/landscape", json={}), 422)
    _one_line_error(client.post("/api/landscape", json={"function": "booth", "grid": 401}), 422,
                    "grid")


def test_race_gd_follows_the_closed_form(client):
    # GD on f = x² + y² is x_k = (1 − 2α)^k x_0.
    lr, steps = 0.1, 40
    r = client.post("/api/race", json={"function": "quadratic_bowl", "start": [1.5, -1.0],
                                       "steps": steps, "optimizers": [
                                           {"name": "gd", "lr": lr}, {"name": "newton"}]})
    gd, newton = r.json()["runs"]
    k = np.arange(steps + 1)[:, None]
    np.testing.assert_allclose(gd["path"], (1 - 2 * lr) ** k * np.array([1.5, -1.0]),
                               rtol=1e-12, atol=1e-300)
    assert gd["verdict"] == "monotone"
    # Newton reaches the minimum of a quadratic in one step.
    np.testing.assert_allclose(newton["path"][1], [0.0, 0.0], atol=1e-12)
    assert newton["verdict"] == "converged" and newton["steps_to_converge"] == 1


def test_race_reports_oscillation_and_divergence(client):
    runs = client.post("/api/race", json={
        "function": "quadratic_bowl", "start": [1.0, 1.0], "steps": 200,
        "optimizers": [{"name": "gd", "lr": 0.9}, {"name": "gd", "lr": 1.2}]}).json()["runs"]
    # factor 1 − 2α = −0.8: converges while flipping sign; −1.4: grows without bound.
    assert runs[0]["verdict"] in ("oscillating", "converged")
    assert np.sign(runs[0]["path"][1][0]) == -1
    assert runs[1]["verdict"] == "diverged"
    assert all(v is None or np.isfinite(v) for v in runs[1]["losses"])


def test_race_with_a_schedule_and_the_closure_methods(client):
    runs = client.post("/api/race", json={
        "function": "rosenbrock", "start": [-1.2, 1.0], "steps": 100, "optimizers": [
            {"name": "adam", "lr": 0.05, "schedule": "cosine"}, {"name": "lbfgs"},
            {"name": "newton_cg"}, {"name": "bfgs"}]}).json()["runs"]
    assert runs[0]["hyperparameters"]["schedule"] == "cosine"
    # L-BFGS, Newton-CG and BFGS reach Rosenbrock's minimum (1, 1) within 100 iterations.
    for run in runs[1:]:
        np.testing.assert_allclose(run["final"]["point"], [1.0, 1.0], atol=1e-5)
    _one_line_error(client.post("/api/race", json={
        "function": "rosenbrock", "start": [0, 0],
        "optimizers": [{"name": "adam", "schedule": "linear"}]}), 422, "optimizers.0.schedule")
    _one_line_error(client.post("/api/race", json={
        "function": "rosenbrock", "start": [0, 0],
        "optimizers": [{"name": "newton", "schedule": "step"}]}), 422, "optimizers.0")


def test_race_bad_inputs(client):
    base = {"function": "rosenbrock", "start": [0, 0], "optimizers": [{"name": "adam"}]}
    _one_line_error(client.post("/api/race", json={**base, "steps": 10_001}), 422, "steps")
    _one_line_error(client.post("/api/race", json={**base, "steps": "many"}), 422, "steps")
    _one_line_error(client.post("/api/race", json={**base, "start": [0]}), 422, "start")
    _one_line_error(client.post("/api/race", json={**base, "optimizers": [{"name": "sgdd"}]}),
                    422, "optimizers.0.name")
    _one_line_error(client.post("/api/race", json={**base, "optimizers": [{"name": "adam"}] * 9}),
                    422, "optimizers")
    _one_line_error(client.post("/api/race", json={**base, "optimizers": [
        {"name": "adam", "lr": -1}]}), 422, "optimizers.0.lr")
    _one_line_error(client.post("/api/race", json={**base, "optimizers": [
        {"name": "adam", "damping": 1.0}]}), 422, "optimizers.0")
    _one_line_error(client.post("/api/race", json={**base, "optimizers": [
        {"name": "adam", "lr": "NaN"}]}), 422, "optimizers.0.lr")
    _one_line_error(client.post("/api/race", json={**base, "surprise": 1}), 422, "surprise")
    _one_line_error(client.post("/api/race", content=b"{not json",
                                headers={"content-type": "application/json"}), 400, "body")
    _one_line_error(client.post("/api/race", content=json.dumps([1, 2]).encode(),
                                headers={"content-type": "application/json"}), 422)


def test_basins_of_himmelblau(client):
    body = client.post("/api/basins", json={"function": "himmelblau", "n": 30, "steps": 300,
                                            "optimizer": {"name": "gd", "lr": 0.01}}).json()
    labels = np.array(body["labels"])
    assert labels.shape == (30, 30)
    assert abs(sum(body["fractions"]) - 1) < 1e-12
    # A start next to each known minimum stays in that minimum's basin.
    xs = np.linspace(-5, 5, 30)
    for m, loc in enumerate(p["location"] for p in body["minima"]):
        j, i = np.abs(xs - loc[0]).argmin(), np.abs(xs - loc[1]).argmin()
        assert labels[i, j] == m
    _one_line_error(client.post("/api/basins", json={
        "function": "himmelblau", "n": 400, "steps": 10_000, "optimizer": {"name": "gd"}}),
        422, "n")
    _one_line_error(client.post("/api/basins", json={
        "function": "saddle", "optimizer": {"name": "gd"}}), 422, "function")


def test_sweep_finds_the_stability_bound_of_a_parabola(client):
    # GD on x² + y² multiplies by 1 − 2α: stable iff α < 1 = 2/L.
    body = client.post("/api/sweep", json={"function": "quadratic_bowl", "lr_min": 0.05,
                                           "lr_max": 2.0, "count": 40, "steps": 100,
                                           "optimizer": {"name": "gd"}}).json()
    assert body["largest_stable_lr"] < 1.0 <= body["smallest_diverging_lr"]
    assert len(body["classes"]) == 40
    _one_line_error(client.post("/api/sweep", json={"function": "booth", "lr_min": 1,
                                                    "lr_max": 0.1, "optimizer": {"name": "gd"}}),
                    422, "lr_min")


def test_critical_points_of_himmelblau(client):
    points = client.post("/api/critical", json={"function": "himmelblau"}).json()[
        "critical_points"]
    kinds = sorted(p["kind"] for p in points)
    assert kinds == ["maximum"] + ["minimum"] * 4 + ["saddle"] * 4
    for p in points:
        x, y = p["location"]
        # ∇f = 0 of (x² + y − 11)² + (x + y² − 7)², by hand.
        gx = 4 * x * (x * x + y - 11) + 2 * (x + y * y - 7)
        gy = 2 * (x * x + y - 11) + 4 * y * (x + y * y - 7)
        assert abs(gx) < 1e-6 and abs(gy) < 1e-6


def test_training_session_lifecycle(client):
    r = client.post("/api/train", json={"dataset": "gaussians", "hidden": [2], "batch_size": 500,
                                        "optimizer": "sgd", "lr": 0.1})
    body = r.json()
    key, frame = body["id"], body["frame"]
    assert frame["epoch"] == 0 and len(body["data"]["train"]["points"]) == 250
    assert np.array(frame["output"]).shape == (50, 50)
    assert [np.array(n).shape for n in frame["neurons"]] == [(2, 24, 24)]
    step = client.post(f"/api/train/{key}/step", json={"epochs": 3}).json()
    assert step["epoch"] == 3 and [h["epoch"] for h in step["history"]] == [1, 2, 3]
    _one_line_error(client.post(f"/api/train/{key}/step", json={"epochs": 101}), 422, "epochs")
    assert client.post(f"/api/train/{key}/pause").json() == {"epoch": 3}
    assert client.post(f"/api/train/{key}/step", json={"epochs": 1}).json()["epoch"] == 4
    assert client.delete(f"/api/train/{key}").status_code == 200
    _one_line_error(client.post(f"/api/train/{key}/step", json={}), 404, "id")
    _one_line_error(client.get(f"/api/train/{key}/stream"), 404, "id")


def test_training_bad_configs(client):
    for body, field in (({"hidden": [4] * 7}, "hidden"), ({"hidden": [9]}, "hidden"),
                        ({"hidden": ["a"]}, "hidden.0"), ({"dataset": "mnist"}, "dataset"),
                        ({"features": ["x", "z"]}, "features.1"), ({"features": []}, "features"),
                        ({"lr": 0}, "lr"), ({"batch_size": 10**9}, "batch_size"),
                        ({"optimizer": "newtonn"}, "optimizer"), ({"noise": 5}, "noise"),
                        ({"activation": "swish"}, "activation"), ({"grid": 10**6}, "grid")):
        _one_line_error(client.post("/api/train", json=body), 422, field)
    # A combination only the library can judge: its ValueError becomes a one-line 422.
    body = _one_line_error(client.post("/api/train", json={"optimizer": "adam", "momentum": 0.5}),
                           422)
    assert "momentum" in body["error"]
    body = _one_line_error(client.post("/api/train", json={"optimizer": "newton",
                                                           "hidden": [8, 8]}), 422)
    assert "Hessian" in body["error"]
    r = client.post("/api/train", json={"optimizer": "lbfgs", "lr": 1, "batch_size": 2000})
    assert r.status_code == 200
    key = r.json()["id"]
    assert client.post(f"/api/train/{key}/step", json={"epochs": 2}).json()["epoch"] == 2


def test_stream_sends_frames_and_pause_stops_the_worker(client):
    key = client.post("/api/train", json={"dataset": "circle"}).json()["id"]
    frames = []
    with client.stream("GET", f"/api/train/{key}/stream") as stream:
        for line in stream.iter_lines():
            if line.startswith("data: ") and line != "data: {}":
                frames.append(json.loads(line[6:]))
                if len(frames) == 2:
                    client.post(f"/api/train/{key}/pause")
    assert len(frames) >= 2 and frames[-1]["epoch"] > frames[0]["epoch"] > 0
    # Each frame carries exactly the epochs after the previous one.
    epochs = [h["epoch"] for f in frames for h in f["history"]]
    assert epochs == list(range(1, frames[-1]["epoch"] + 1))
    stopped = client.post(f"/api/train/{key}/pause").json()["epoch"]
    import time

    time.sleep(0.5)
    assert client.post(f"/api/train/{key}/pause").json()["epoch"] == stopped
    # The page catches up on epochs trained after its last frame.
    rest = client.get(f"/api/train/{key}/frame", params={"since": frames[-1]["epoch"]}).json()
    assert rest["epoch"] == stopped
    assert [h["epoch"] for h in rest["history"]] == list(range(frames[-1]["epoch"] + 1,
                                                               stopped + 1))
    _one_line_error(client.get(f"/api/train/{key}/frame", params={"since": -1}), 422, "since")


@pytest.mark.filterwarnings("ignore")  # overflow and negative-curvature warnings are the point
@pytest.mark.parametrize("formula", ["x + y", "0*x + 0*y", "abs(x) + abs(y)", "-(x**2) - y**2",
                                     "log(x) + y", "x/0 + y", "exp(exp(exp(x))) + y",
                                     "x**-1 + y", "1/(x*y)"])
def test_hostile_landscapes_never_give_a_server_error(client, formula):
    """Unbounded, flat, non-smooth, NaN-valued landscapes: every answer is 200 or a 4xx line."""
    names = ["gd", "adam", "newton", "bfgs", "lbfgs", "newton_cg"]
    for start in ([0.0, 0.0], [1e6, -1e6]):
        r = client.post("/api/race", json={"formula": formula, "start": start, "steps": 20,
                                           "optimizers": [{"name": n} for n in names]})
        assert r.status_code in (200, 422), r.text[:300]
        if r.status_code == 200:
            json.dumps(r.json(), allow_nan=False)
        else:
            _one_line_error(r, 422)
    for path, body in (("/api/critical", {}), ("/api/landscape", {"grid": 20}),
                       ("/api/sweep", {"optimizer": {"name": "newton"}, "steps": 20}),
                       ("/api/basins", {"optimizer": {"name": "newton"}, "n": 8, "steps": 10})):
        r = client.post(path, json={"formula": formula, **body})
        assert r.status_code in (200, 422), (path, r.text[:300])

