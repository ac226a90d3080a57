"""The playground in a real headless Chromium (Playwright's sync API): race, train, URL state.

Screenshots go to tests/artifacts/ (kept by CI as artefacts, ignored by git).
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the web extra (fastapi) is not installed")
uvicorn = pytest.importorskip("uvicorn", reason="the web extra (uvicorn) is not installed")
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="the playwright package is not installed")

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium"),
                             shutil.which("chromium-browser")) if p and Path(p).exists()), None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium found (/usr/bin/chromium); install it with "
    "'apt-get install chromium' to run the browser tests")


@pytest.fixture(scope="module")
def server_url():
    from descentlab.web.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started:
        assert time.time() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    # One Chromium for the module, with a fresh profile directory of its own.
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=FLAGS, headless=True,
            viewport={"width": 1500, "height": 1150})
        yield context
        context.close()


@pytest.fixture()
def page(browser):
    pg = browser.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    pg.close()
    assert not errors, errors


def _open(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)


def test_race_draws_both_trajectories(page, server_url):
    ARTIFACTS.mkdir(exist_ok=True)
    _open(page, server_url + "#fn=himmelblau&sx=-0.5&sy=0.5&steps=200&speed=50"
          "&racers=name:gd,lr:0.01;name:adam,lr:0.1")
    page.click("#race-run")
    page.wait_for_function("window.playground.race.runs.length === 2 && "
                           "!window.playground.race.playing", timeout=30_000)
    runs = page.evaluate("window.playground.race.runs.map(r => [r.optimizer, r.path.length, "
                         "r.verdict])")
    assert [r[0] for r in runs] == ["gd", "adam"] and all(r[1] == 201 for r in runs)
    # Both paths are on the canvas: count pixels in each racer's colour.
    counts = page.evaluate("""() => {
        const d = document.getElementById('landscape').getContext('2d')
            .getImageData(0, 0, 420, 420).data;
        const near = (i, c) => Math.abs(d[i] - c[0]) + Math.abs(d[i + 1] - c[1])
            + Math.abs(d[i + 2] - c[2]) < 40;
        const cols = [[0xe6, 0x19, 0x4b], [0x3c, 0xb4, 0x4b]];
        const n = [0, 0];
        for (let i = 0; i < d.length; i += 4) cols.forEach((c, k) => { if (near(i, c)) n[k]++; });
        return n; }""")
    assert counts[0] > 30 and counts[1] > 30, counts
    rows = page.locator("#readout tbody tr")
    assert rows.count() == 2
    for k, (_, _, verdict) in enumerate(runs):
        label = page.evaluate(f"I18N.en[{verdict!r}]")
        assert rows.nth(k).inner_text().split("\t")[-1] == label
    page.screenshot(path=str(ARTIFACTS / "race.png"), full_page=True)
    # Exports: the pictures as PNG files and the curves as CSV.
    downloads = []
    page.on("download", lambda d: downloads.append(d))
    page.click("#export-csv")
    page.click("#export-png")
    page.wait_for_timeout(1500)
    files = {d.suggested_filename: Path(d.path()) for d in downloads}
    expected = {"race.csv", "training.csv", "landscape.png", "race-loss.png", "output.png"}
    assert expected <= set(files)
    lines = files["race.csv"].read_text().splitlines()
    assert lines[0] == "step,gd_0_x,gd_0_y,gd_0_loss,adam_1_x,adam_1_y,adam_1_loss"
    assert len(lines) == 202 and lines[1].startswith("0,-0.5,0.5,")
    assert files["training.csv"].read_text().startswith("epoch,")
    assert files["landscape.png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_spiral_network_learns(page, server_url):
    ARTIFACTS.mkdir(exist_ok=True)
    _open(page, server_url + "#ds=spiral&feats=x,y,sinx,siny&layers=8,8&act=tanh&opt=adam"
          "&lr=0.03&batch=10&test=1&fn=rosenbrock&sx=-1.5&sy=2&steps=400&speed=8"
          "&racers=name:gd,lr:0.001;name:adam,lr:0.1;name:newton;name:lbfgs")
    page.click("#race-run")
    page.click("#net-play")
    page.wait_for_function("(window.playground.net.frame.last.test_accuracy || 0) > 0.9",
                           timeout=60_000)
    page.click("#net-play")  # pause
    page.wait_for_function("!window.playground.net.playing", timeout=10_000)
    paused_at = page.evaluate("window.playground.net.frame.epoch")
    page.wait_for_timeout(1000)
    # Paused means paused: no new frame, and the server's worker has stopped too.
    assert page.evaluate("window.playground.net.frame.epoch") == paused_at
    server_epoch = page.evaluate("""async () => (await (await fetch(
        `/api/train/${window.playground.net.id}/pause`, {method: 'POST'})).json()).epoch""")
    assert server_epoch == paused_at
    acc = page.evaluate("window.playground.net.frame.last.test_accuracy")
    assert acc > 0.9
    assert page.locator("#network canvas.node").count() == 4 + 8 + 8 + 1
    text = page.inner_text("#test-acc")
    assert text.endswith("%") and float(text.split()[0]) > 90
    page.wait_for_function("window.playground.race.runs.length === 4 && "
                           "!window.playground.race.playing", timeout=30_000)
    page.mouse.move(0, 0)
    page.screenshot(path=str(ARTIFACTS / "playground.png"), full_page=True)


def test_url_keeps_the_state_across_a_reload(page, server_url):
    _open(page, server_url)
    page.select_option("#dataset", "xor")
    page.check("#features input[value='xy']")
    page.select_option("#lang", "ko")
    page.fill("#steps", "123")
    page.dispatch_event("#steps", "change")
    page.wait_for_function("location.hash.includes('ds=xor') && "
                           "location.hash.includes('feats=x%2Cy%2Cxy')")
    url = page.url
    assert "lang=ko" in url and "steps=123" in url
    page.wait_for_function("window.playground.net.frame && "
                           "window.playground.net.data.train.points.length > 0")
    page.click("#net-step")
    page.wait_for_function("window.playground.net.frame.epoch === 1")
    before = page.evaluate("window.playground.net.frame.last")
    page.goto("about:blank")
    _open(page, url)
    # The URL holds the seed too: the reloaded page's first epoch is the same numbers.
    page.click("#net-step")
    page.wait_for_function("window.playground.net.frame.epoch === 1")
    assert page.evaluate("window.playground.net.frame.last") == before
    page.click("#net-reset")
    page.wait_for_function("window.playground.net.frame.epoch === 0")
    assert page.input_value("#dataset") == "xor"
    assert page.is_checked("#features input[value='xy']")
    assert page.input_value("#steps") == "123"
    assert page.inner_text("#net-panel h2") == "신경망 놀이터"
    assert page.evaluate("window.playground.net.frame.epoch") == 0
    # Every control explains itself on hover, in both languages.
    missing = page.evaluate("""() => {
        const keys = [...document.querySelectorAll('[data-tip]')].map(e => e.dataset.tip);
        const untipped = [...document.querySelectorAll('input, select, button')]
            .filter(e => !e.closest('[data-tip]') && !e.closest('#layer-units')
                     && e.textContent !== '×');
        return keys.filter(k => !I18N.en[k] || !I18N.ko[k])
            .concat(untipped.map(e => e.id || e.className)); }""")
    assert missing == []
    page.screenshot(path=str(ARTIFACTS / "korean.png"), full_page=True)
