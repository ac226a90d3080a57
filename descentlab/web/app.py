"""The playground's ASGI app: a static page plus a JSON API over the lab and the trainer.

Every computation is a library call (``lab.race``, ``lab.analysis``, ``lab.functions``,
``lab.formula``, ``train.playground``), run in a worker thread so the event loop keeps serving
other tabs. Training streams frames as server-sent events; the worker checks a stop flag between
epochs, so pause, reset and a closed tab stop the computing, not just the drawing. Every bad
request gets a 4xx with one line of JSON ``{"error": ..., "field": ...}``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import os
import secrets
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..data.playground import FEATURES
from ..lab import analysis
from ..lab.formula import parse_function
from ..lab.functions import Landscape, function_names, get_function
from ..lab.race import RACE_OPTIMIZERS, hyperparameter_defaults, race
from ..lab.trajectories import OPTIMIZERS as FIRST_ORDER
from ..train.builders import OPTIMIZERS as NET_OPTIMIZERS
from ..train.playground import (
    CLOSURE_OPTIMIZERS,
    HIDDEN_ACTIVATIONS,
    INITS,
    PLAYGROUND_DATASETS,
    REGULARIZATIONS,
    SCHEDULES,
    PlaygroundConfig,
    PlaygroundSession,
)
from . import schemas

__all__ = ["create_app"]

STATIC = Path(__file__).parent / "static"
MAX_SESSIONS = 64
SESSION_IDLE_S = 1800.0
FRAME_S = 0.2          # about five frames a second
#: Analyses (landscapes, races, basins, sweeps, critical points) at once: more would only share
#: the same cores, and a queue of them must not starve the training frames that animate pages.
ANALYSIS_WORKERS = os.cpu_count() or 1


class _BadRequest(Exception):
    def __init__(self, message: str, field: str | None = None, status: int = 422) -> None:
        super().__init__(message)
        self.field, self.status = field, status


def _error(message: str, field: str | None, status: int) -> JSONResponse:
    line = " ".join(str(message).split())
    return JSONResponse({"error": line, "field": field}, status_code=status)


def _finite(a: Any) -> Any:
    """Nested lists of a float array with non-finite values as None (JSON has no NaN)."""
    arr = np.asarray(a, dtype=np.float64)
    ok = np.isfinite(arr)
    out = arr.astype(object)
    out[~ok] = None
    return out.tolist()


def _number(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def _landscape(req: schemas.Landscape) -> Landscape:
    if req.formula is not None:
        try:
            f = parse_function(req.formula)
        except ValueError as e:
            raise _BadRequest(str(e), "formula") from None
        if f.dim != 2:
            raise _BadRequest(f"formula {req.formula!r} uses {', '.join(f.params['variables'])}; "
                              "a landscape here needs both x and y (add 0*y)", "formula")
        return f
    try:
        f = get_function(req.function or "")
    except ValueError as e:
        raise _BadRequest(str(e), "function") from None
    if f.dim != 2:
        raise _BadRequest(f"{f.name} is {f.dim}-D; the playground draws 2-D landscapes", "function")
    return f


async def _analysis(limiter: Any, func: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a lab analysis in a worker thread, at most ``ANALYSIS_WORKERS`` at a time.

    A failure deep in a run on a hostile landscape (a division by zero or a bracket lost to NaN
    in a line search where f has no minimum, a singular matrix) is triggered by the input: a 422
    that says so and names the exception, rather than a 500. ValueErrors (bad arguments) keep
    their own one-line message.
    """
    import anyio

    try:
        return await anyio.to_thread.run_sync(functools.partial(func, *args, **kwargs),
                                              limiter=limiter)
    except ValueError:
        raise
    except Exception as e:  # noqa: BLE001 - see the docstring
        raise _BadRequest(f"the computation broke down on this input ({type(e).__name__}: "
                          f"{str(e).splitlines()[0] if str(e) else 'no message'}); try another "
                          "start, landscape or optimizer") from None


def _points(points: list[Any]) -> list[dict[str, Any]]:
    return [{"location": list(p.location), "value": _number(p.value), "kind": p.kind}
            for p in points]


# ------------------------------------------------------------------------------ sessions
class _Entry:
    """A training session with its lock (one worker at a time) and its stop flag."""

    def __init__(self, session: PlaygroundSession) -> None:
        self.session = session
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.used = time.monotonic()
        self.streaming = False

    def run(self, epochs: int | None, seconds: float | None) -> int:
        with self.lock:
            self.used = time.monotonic()
            left = schemas.MAX_EPOCHS - self.session.epoch
            return self.session.train(min(epochs or left, left), should_stop=self.stop.is_set,
                                      max_seconds=seconds)

    def frame(self, since: int) -> dict[str, Any]:
        with self.lock:
            return self.session.frame(since)

    def wait_idle(self) -> int:
        """Block until no worker is computing (the lock is free); return the epoch reached."""
        with self.lock:
            return self.session.epoch


class _Sessions:
    def __init__(self) -> None:
        self._items: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, session: PlaygroundSession) -> str:
        key = secrets.token_hex(8)
        with self._lock:
            now = time.monotonic()
            for k in [k for k, e in self._items.items() if now - e.used > SESSION_IDLE_S]:
                self._items.pop(k).stop.set()
            while len(self._items) >= MAX_SESSIONS:
                self._items.popitem(last=False)[1].stop.set()
            self._items[key] = _Entry(session)
        return key

    def get(self, key: str) -> _Entry:
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                raise _BadRequest(f"no training session {key!r} (it ended or expired); start a new "
                                  "one with POST /api/train", "id", 404)
            self._items.move_to_end(key)
            return entry

    def remove(self, key: str) -> None:
        with self._lock:
            entry = self._items.pop(key, None)
        if entry is not None:
            entry.stop.set()

    def __len__(self) -> int:
        return len(self._items)


# ------------------------------------------------------------------------------ the app
def create_app() -> FastAPI:
    """The FastAPI application (``uvicorn`` serves it; ``descentlab serve`` starts both)."""
    app = FastAPI(title="descentlab playground", docs_url=None, redoc_url=None,
                  openapi_url=None)
    sessions = _Sessions()
    app.state.sessions = sessions
    limiter: Any = None

    def analyses() -> Any:
        # Created lazily: a CapacityLimiter belongs to the event loop that first uses it.
        nonlocal limiter
        if limiter is None:
            import anyio

            limiter = anyio.CapacityLimiter(ANALYSIS_WORKERS)
        return limiter

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
        if first.get("type") == "json_invalid":
            return _error("the request body is not valid JSON", "body", 400)
        msg = first.get("msg", "invalid value").removeprefix("Value error, ")
        # Checks across fields (schemas' model validators) start their message with the field.
        field = ".".join(loc) or (msg.split(":")[0] if ":" in msg.split(" ")[0] else None)
        if not loc and field:
            return _error(msg, field, 422)
        return _error(f"{field}: {msg}" if field else msg, field, 422)

    @app.exception_handler(_BadRequest)
    async def _bad(request: Request, exc: _BadRequest) -> JSONResponse:
        return _error(str(exc), exc.field, exc.status)

    @app.exception_handler(ValueError)
    async def _value(request: Request, exc: ValueError) -> JSONResponse:
        # The library's argument checks: their message names the problem and the fix.
        return _error(str(exc).splitlines()[0], None, 422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A bug, not a bad request: still one line of JSON for the page, never a traceback.
        return _error(f"internal error ({type(exc).__name__}); please report it", None, 500)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(str(exc.detail), None, exc.status_code)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/api/meta")
    async def meta() -> dict[str, Any]:
        """What the page can offer: functions, optimizers with defaults, data sets, limits."""
        functions = []
        for name in function_names():
            f = get_function(name)
            if f.dim == 2:
                functions.append({"name": name, "formula": f.formula, "domain": f.domain})
        return {
            "functions": functions,
            "race_optimizers": {n: hyperparameter_defaults(n) for n in RACE_OPTIMIZERS},
            "net_optimizers": {
                **{n: {"lr": s.lr, "momentum": s.momentum, "about": s.description}
                   for n, s in NET_OPTIMIZERS.items()},
                **{n: {"lr": 1.0, "momentum": False, "about": f"optim.{cls}, one iteration a "
                       "batch (full batch suits it best)"}
                   for n, cls in CLOSURE_OPTIMIZERS.items()}},
            "datasets": PLAYGROUND_DATASETS, "features": list(FEATURES),
            "activations": list(HIDDEN_ACTIVATIONS), "inits": list(INITS),
            "regularizations": list(REGULARIZATIONS), "schedules": list(SCHEDULES),
            "limits": {"steps": schemas.MAX_STEPS, "grid": schemas.MAX_GRID,
                       "optimizers": schemas.MAX_OPTIMIZERS, "layers": schemas.MAX_LAYERS,
                       "units": schemas.MAX_UNITS, "epochs": schemas.MAX_EPOCHS},
        }

    @app.post("/api/landscape")
    async def landscape(req: schemas.LandscapeRequest) -> dict[str, Any]:
        """f over an n×n grid of its domain, with its known minima and critical points."""
        f = _landscape(req)

        def compute() -> dict[str, Any]:
            (x0, x1), (y0, y1) = f.domain
            xs, ys = np.linspace(x0, x1, req.grid), np.linspace(y0, y1, req.grid)
            gx, gy = np.meshgrid(xs, ys)
            with np.errstate(all="ignore"):
                z = f.value(np.stack([gx, gy], axis=-1))
            return {"name": f.name, "formula": f.formula, "domain": f.domain,
                    "z": _finite(z), "minima": _points(f.minima),
                    "critical_points": _points(f.critical_points)}

        return await _analysis(analyses(), compute)

    @app.post("/api/race")
    async def race_endpoint(req: schemas.RaceRequest) -> dict[str, Any]:
        """Race the optimizers from one start: paths, losses, verdicts."""
        f = _landscape(req)
        specs = [(o.name, o.hyperparameters()) for o in req.optimizers]
        for i, (name, hyper) in enumerate(specs):
            allowed = dict(hyperparameter_defaults(name))
            if name in FIRST_ORDER:
                allowed["schedule"] = "none"
            extra = sorted(set(hyper) - set(allowed))
            if extra:
                raise _BadRequest(f"optimizers.{i}: {name} does not take {', '.join(extra)}; it "
                                  f"takes {', '.join(allowed)}", f"optimizers.{i}")
        runs = await _analysis(analyses(), race, f, req.start, specs, req.steps, gtol=req.gtol)
        return {"runs": [{
            "optimizer": r.optimizer, "hyperparameters": r.hyperparameters,
            "path": _finite(r.positions), "losses": _finite(r.losses),
            "grad_norms": _finite(r.grad_norms), "verdict": r.verdict,
            "steps_to_converge": r.steps_to_converge,
            "final": {"point": _finite(r.positions[-1]), "loss": _number(float(r.losses[-1]))},
        } for r in runs]}

    @app.post("/api/basins")
    async def basins(req: schemas.BasinsRequest) -> dict[str, Any]:
        """Which known minimum the optimizer reaches from each start of an n×n grid."""
        f = _landscape(req)
        if not any(c.kind == "minimum" for c in f.critical_points):
            raise _BadRequest(f"{f.name} has no known minima to colour basins by; use the "
                              "critical-points toggle on a lab function", "function")
        spec = req.optimizer
        if spec.name in ("newton_cg", "lbfgs"):
            raise _BadRequest(f"optimizer.name: basins run the batched lab runner, which has no "
                              f"{spec.name}; choose newton, bfgs or a first-order method",
                              "optimizer.name")
        result = await _analysis(
            analyses(), analysis.basins_of_attraction, f, spec.name, req.n, req.steps,
            **spec.hyperparameters(schedule=False))
        return {"labels": result.labels.tolist(), "minima": _points(result.minima),
                "fractions": _finite(result.fractions()), "domain": f.domain}

    @app.post("/api/sweep")
    async def sweep(req: schemas.SweepRequest) -> dict[str, Any]:
        """Loss after N steps against a log-spaced range of learning rates, each classified."""
        f = _landscape(req)
        spec = req.optimizer
        if spec.name in ("newton_cg", "lbfgs"):
            raise _BadRequest(f"optimizer.name: the sweep has no {spec.name}", "optimizer.name")
        hyper = {k: v for k, v in spec.hyperparameters(schedule=False).items() if k != "lr"}
        lrs = np.geomspace(req.lr_min, req.lr_max, req.count)
        result = await _analysis(analyses(), analysis.lr_sweep, f, lrs, req.start, spec.name,
                                 req.steps, **hyper)
        return {"lrs": _finite(result.lrs), "classes": result.classes,
                "final_gaps": _finite(result.final_gaps),
                "largest_stable_lr": result.largest_stable_lr,
                "smallest_diverging_lr": result.smallest_diverging_lr}

    @app.post("/api/critical")
    async def critical(req: schemas.Landscape) -> dict[str, Any]:
        """Critical points found by Newton on ∇f = 0, classified by the Hessian's eigenvalues."""
        f = _landscape(req)
        points = await _analysis(analyses(), analysis.find_critical_points, f)
        return {"critical_points": _points(points)}

    # -------------------------------------------------------------------- training
    @app.post("/api/train")
    async def train_start(req: schemas.TrainConfig) -> dict[str, Any]:
        """Build a session (data, network, optimizer) and return its id, data and first frame."""
        config = PlaygroundConfig(**{**req.model_dump(), "features": tuple(req.features),
                                     "hidden": tuple(req.hidden)})
        session = await run_in_threadpool(PlaygroundSession, config)
        key = sessions.add(session)
        frame = await run_in_threadpool(session.frame, 0)
        return {"id": key, "data": session.data(), "frame": frame}

    @app.post("/api/train/{key}/step")
    async def train_step(key: str, req: schemas.StepRequest) -> dict[str, Any]:
        """Train ``epochs`` more epochs (not while the session is streaming); return a frame."""
        entry = sessions.get(key)
        if entry.streaming:
            raise _BadRequest("the session is playing; pause it before stepping", "id", 409)
        before = entry.session.epoch
        entry.stop.clear()  # a pause stops a stream; it must not veto a later step
        await run_in_threadpool(entry.run, req.epochs, None)
        return await run_in_threadpool(entry.frame, before)

    @app.get("/api/train/{key}/stream")
    async def train_stream(key: str, request: Request) -> StreamingResponse:
        """Server-sent events: a frame about every 0.2 s while the session trains."""
        entry = sessions.get(key)
        if entry.streaming:
            raise _BadRequest("this session is already playing in another stream", "id", 409)
        entry.streaming = True
        entry.stop.clear()

        async def events() -> Any:
            sent = entry.session.epoch
            try:
                while not entry.stop.is_set():
                    ran = await run_in_threadpool(entry.run, None, FRAME_S)
                    frame = await run_in_threadpool(entry.frame, sent)
                    sent = frame["epoch"]
                    yield f"data: {json.dumps(frame, allow_nan=False)}\n\n"
                    if (ran == 0 or frame["diverged"]
                            or entry.session.epoch >= schemas.MAX_EPOCHS
                            or await request.is_disconnected()):
                        break
                    await asyncio.sleep(0)
                yield "event: end\ndata: {}\n\n"
            finally:
                # Reached on pause, reset, the end of the run and a closed tab alike.
                entry.stop.set()
                entry.streaming = False

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})

    @app.post("/api/train/{key}/pause")
    async def train_pause(key: str) -> dict[str, Any]:
        """Stop the session's worker after its current epoch; answers once it has stopped."""
        entry = sessions.get(key)
        entry.stop.set()
        return {"epoch": await run_in_threadpool(entry.wait_idle)}

    @app.get("/api/train/{key}/frame")
    async def train_frame(key: str, since: int = Query(0, ge=0)) -> dict[str, Any]:
        """The current frame, with the history after epoch ``since`` (a page catching up)."""
        entry = sessions.get(key)
        return await run_in_threadpool(entry.frame, since)

    @app.delete("/api/train/{key}")
    async def train_delete(key: str) -> dict[str, Any]:
        """Stop and forget a session (the page calls this on reset and when it closes)."""
        sessions.get(key)
        sessions.remove(key)
        return {"deleted": key}

    return app
