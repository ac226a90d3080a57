"""``descentlab serve``: the missing-extra message, argument checks, and a real server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def test_serve_without_the_web_extra_names_it_and_exits_2():
    # sys.modules[name] = None makes "import fastapi" fail as if it were not installed.
    code = ("import sys; sys.modules['fastapi'] = None; from descentlab.cli import main; "
            "sys.exit(main(['serve']))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV,
                       timeout=60)
    assert r.returncode == 2
    assert 'pip install "descentlab[web]"' in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_serve_rejects_a_bad_port():
    r = subprocess.run([sys.executable, "-m", "descentlab", "serve", "--port", "70000"],
                       capture_output=True, text=True, env=ENV, timeout=60)
    assert r.returncode == 2 and "0..65535" in r.stderr


def test_serve_binds_loopback_and_answers():
    pytest.importorskip("fastapi", reason="the web extra is not installed")
    pytest.importorskip("uvicorn", reason="the web extra is not installed")
    proc = subprocess.Popen([sys.executable, "-m", "descentlab", "serve", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        line = proc.stdout.readline()
        assert line.startswith("descentlab playground at http://127.0.0.1:"), line
        url = line.split()[3]
        deadline = time.time() + 20
        while True:
            try:
                with urllib.request.urlopen(url + "api/meta", timeout=5) as r:
                    assert r.status == 200 and b"race_optimizers" in r.read()
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_closing_the_stream_stops_the_worker():
    """A closed tab (the client drops the event stream) stops the training, not just the frames."""
    pytest.importorskip("fastapi", reason="the web extra is not installed")
    httpx = pytest.importorskip("httpx", reason="httpx is not installed")
    proc = subprocess.Popen([sys.executable, "-m", "descentlab", "serve", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        url = proc.stdout.readline().split()[3]
        with httpx.Client(base_url=url, timeout=30) as http:
            for _ in range(200):
                try:
                    key = http.post("api/train", json={"dataset": "spiral"}).json()["id"]
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            with http.stream("GET", f"api/train/{key}/stream") as stream:
                for line in stream.iter_lines():
                    if line.startswith("data: "):
                        break  # one frame, then the "tab" closes
            time.sleep(1.0)  # the worker notices between epochs
            first = http.post(f"api/train/{key}/pause").json()["epoch"]
            time.sleep(1.0)
            assert first > 0
            assert http.post(f"api/train/{key}/pause").json()["epoch"] == first
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_serve_on_a_busy_port_says_so_in_one_line():
    pytest.importorskip("uvicorn", reason="the web extra is not installed")
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "descentlab", "serve", "--port", str(port)],
                           capture_output=True, text=True, env=ENV, timeout=60)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.startswith("descentlab serve: error: cannot listen on 127.0.0.1:")
    assert len(r.stderr.strip().splitlines()) == 1
