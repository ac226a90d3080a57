// The playground's network half: the layer controls, the training session it drives on the
// server, and the drawings of its output, network and gradients. Loaded before app.js, which
// holds the shared helpers and state these functions use and wires them up in init().
"use strict";

// ---------------------------------------------------------------- network playground
function renderLayers() {
  const box = $("layer-units"); box.innerHTML = "";
  state.net.layers.forEach((u, i) => {
    const inp = document.createElement("input"); inp.type = "number"; inp.min = 1; inp.max = 8; inp.value = u;
    inp.onchange = () => { state.net.layers[i] = Math.max(1, Math.min(8, Number(inp.value) || 1)); inp.value = state.net.layers[i]; netChanged(); };
    box.appendChild(inp);
  });
}
function netConfig() {
  return {
    dataset: $("dataset").value, noise: Number($("noise").value), test_fraction: Number((1 - Number($("train-ratio").value)).toFixed(2)),
    batch_size: Number($("batch").value), seed: Number($("seed").value),
    features: [...document.querySelectorAll("#features input:checked")].map((e) => e.value),
    hidden: state.net.layers, activation: $("activation").value, init: $("init").value, batchnorm: $("batchnorm").checked,
    regularization: $("regularization").value, reg_rate: Number($("reg-rate").value),
    optimizer: $("net-optimizer").value, lr: Number($("net-lr").value), schedule: $("schedule").value,
  };
}
async function netReset() {
  await netPause();
  if (state.net.id) api(`/api/train/${state.net.id}`, undefined, "DELETE").catch(() => {});
  state.net.id = null; $("net-error").textContent = "";
  try {
    const res = await api("/api/train", netConfig());
    state.net.id = res.id; state.net.data = res.data; state.net.history = [res.frame.last]; showFrame(res.frame);
  } catch (e) { $("net-error").textContent = e.message; }
}
function netChanged() { saveUrl(); netReset(); }
async function netPause() {
  if (!state.net.playing || state.net.stopping) return;
  state.net.stopping = true;
  if (state.net.abort) state.net.abort.abort();
  if (state.net.streamDone) await state.net.streamDone;
  if (state.net.id) {
    // The pause answers once the worker has stopped; epochs it finished after the last frame
    // are fetched so the curves and pictures match the server.
    await api(`/api/train/${state.net.id}/pause`, {}).catch(() => {});
    const since = state.net.frame ? state.net.frame.epoch : 0;
    try { showFrame(await api(`/api/train/${state.net.id}/frame?since=${since}`)); } catch (e) { /* session gone */ }
  }
  state.net.stopping = false; state.net.playing = false; $("net-play").textContent = t("play");
}
async function netPlay() {
  if (state.net.playing) { await netPause(); return; }
  if (!state.net.id) await netReset();
  if (!state.net.id || state.net.frame.diverged) return;
  state.net.playing = true; $("net-play").textContent = t("pause");
  const ctrl = new AbortController(); state.net.abort = ctrl;
  state.net.streamDone = (async () => {
    try {
      const r = await fetch(`/api/train/${state.net.id}/stream`, { signal: ctrl.signal });
      if (!r.ok) throw new Error((await r.json()).error);
      const reader = r.body.getReader(), dec = new TextDecoder(); let buf = "";
      for (;;) {
        const { value, done } = await reader.read(); if (done) break;
        buf += dec.decode(value, { stream: true });
        let cut;
        while ((cut = buf.indexOf("\n\n")) >= 0) {
          const event = buf.slice(0, cut); buf = buf.slice(cut + 2);
          if (event.startsWith("data: ") ) { const frame = JSON.parse(event.slice(6)); if (frame.epoch !== undefined) showFrame(frame); }
        }
      }
    } catch (e) { if (e.name !== "AbortError") $("net-error").textContent = e.message; }
    // A pause finishes the bookkeeping itself; here the run ended on its own (diverged, done).
    if (!state.net.stopping) { state.net.playing = false; $("net-play").textContent = t("play"); }
  })();
}
async function netStep() {
  await netPause();
  if (!state.net.id) await netReset();
  try { showFrame(await api(`/api/train/${state.net.id}/step`, { epochs: 1 })); } catch (e) { $("net-error").textContent = e.message; }
}
function showFrame(frame) {
  state.net.frame = frame;
  frame.history.forEach((r) => { if (!state.net.history.length || r.epoch > state.net.history[state.net.history.length - 1].epoch) state.net.history.push(r); });
  const last = frame.last;
  $("epoch").textContent = frame.epoch; $("train-loss").textContent = fmt(last.loss); $("test-loss").textContent = fmt(last.test_loss);
  $("test-acc").textContent = last.test_accuracy === undefined ? "–" : (100 * last.test_accuracy).toFixed(1) + " %";
  if (frame.diverged) $("net-error").textContent = frame.diverged;
  drawOutput(); drawNetwork(); drawLineChart($("net-loss"), [
    { values: state.net.history.map((r) => r.loss), color: "#333" },
    { values: state.net.history.map((r) => r.test_loss), color: "#0877bd", dash: true }], { xlabel: "epoch" });
  drawGrads();
}
function heat(values, size, discretize, scale) {  // (n, n) rows y-up → canvas of size px
  const n = values.length, img = new ImageData(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let v = values[i][j]; v = v === null ? 0 : v / (scale || 1);
    if (discretize) v = v > 0 ? 1 : -1;
    img.data.set([...ramp(DIVERGING, (v + 1) / 2), 255], ((n - 1 - i) * n + j) * 4);
  }
  const off = document.createElement("canvas"); off.width = n; off.height = n; off.getContext("2d").putImageData(img, 0, 0);
  const cv = document.createElement("canvas"); cv.width = size; cv.height = size;
  const ctx = cv.getContext("2d"); ctx.imageSmoothingEnabled = false; ctx.drawImage(off, 0, 0, size, size);
  return cv;
}
function drawOutput() {
  const f = state.net.frame, cv = $("output"), ctx = cv.getContext("2d");
  if (!f) return;
  const regression = f.task === "regression";
  ctx.drawImage(heat(f.output, cv.width, $("discretize").checked && !regression, 1), 0, 0);
  const parts = $("show-test").checked ? ["train", "test"] : ["train"];
  parts.forEach((part) => {
    const d = state.net.data[part];
    d.points.forEach((p, k) => {
      const [x, y] = toCanvas(f.domain, cv.width, cv.height, p[0], p[1]);
      const v = regression ? d.targets[k] : (d.targets[k] === 1 ? 1 : -1);
      ctx.fillStyle = `rgb(${ramp(DIVERGING, (v + 1) / 2).join(",")})`; ctx.strokeStyle = part === "test" ? "#000" : "#fff";
      ctx.lineWidth = part === "test" ? 1.5 : 1; ctx.beginPath(); ctx.arc(x, y, 3, 0, 7); ctx.fill(); ctx.stroke();
    });
  });
}
function drawNetwork() {
  const f = state.net.frame, box = $("network"), svg = $("links");
  box.querySelectorAll(".node,.node-label").forEach((e) => e.remove()); svg.innerHTML = "";
  const cols = [f.features, ...f.neurons, [f.output]];
  const names = netConfig().features;
  const W = box.clientWidth || 600, H = 330, size = 36, gapX = (W - size) / Math.max(1, cols.length - 1);
  const pos = cols.map((col, c) => col.map((_, k) => [c * gapX, (H - col.length * (size + 6)) / 2 + k * (size + 6)]));
  const maxAbs = (m) => Math.max(1e-9, ...m.flat().map((v) => Math.abs(v || 0)));
  f.weights.forEach((Wm, l) => {
    // Two class logits feed one output picture (p₁ − p₀): draw the weight on z₁ − z₀.
    if (l === f.weights.length - 1 && Wm.length === 2) Wm = [Wm[1].map((w, i) => w - Wm[0][i])];
    Wm.forEach((row, o) => row.forEach((w, i) => {
      const [x0, y0] = pos[l][i], [x1, y1] = pos[l + 1][o];
      const line = document.createElementNS("http://www.w3.org/2000/svg", "path");
      line.setAttribute("d", `M${x0 + size},${y0 + size / 2} C${(x0 + x1 + size) / 2},${y0 + size / 2} ${(x0 + x1 + size) / 2},${y1 + size / 2} ${x1},${y1 + size / 2}`);
      line.setAttribute("stroke", (w || 0) >= 0 ? "#0877bd" : "#f59322"); line.setAttribute("fill", "none");
      line.setAttribute("stroke-width", String(Math.min(6, 0.3 + 2 * Math.abs(w || 0))));
      line.setAttribute("class", "link"); svg.appendChild(line);
    }));
  });
  cols.forEach((col, c) => col.forEach((m, k) => {
    const isOut = c === cols.length - 1;
    const cv = heat(m, size, isOut && $("discretize").checked && f.task !== "regression", isOut ? 1 : maxAbs(m));
    cv.className = "node"; cv.style.left = pos[c][k][0] + "px"; cv.style.top = pos[c][k][1] + "px";
    if (c > 0 && !isOut) cv.dataset.neuron = `${c - 1}:${k}`;
    box.appendChild(cv);
    if (c === 0) { const lab = document.createElement("span"); lab.className = "node-label"; lab.textContent = names[k]; lab.style.left = (pos[c][k][0] + size + 2) + "px"; lab.style.top = pos[c][k][1] + "px"; box.appendChild(lab); }
  }));
}
function drawGrads() {
  const g = state.net.frame.grad_norms, cv = $("grad-bars"), ctx = cv.getContext("2d");
  ctx.clearRect(0, 0, cv.width, cv.height);
  const vals = g.map((v) => (v && v > 0 ? Math.log10(v) : null)).filter((v) => v !== null);
  if (!vals.length) return;
  const lo = Math.min(-6, ...vals), hi = Math.max(1, ...vals), bw = (cv.width - 20) / g.length;
  g.forEach((v, i) => {
    const h = v && v > 0 ? (Math.log10(v) - lo) / (hi - lo) * (cv.height - 30) : 0;
    ctx.fillStyle = "#4363d8"; ctx.fillRect(10 + i * bw + 4, cv.height - 18 - h, bw - 8, h);
    ctx.fillStyle = "#333"; ctx.font = "10px sans-serif"; ctx.textAlign = "center";
    ctx.fillText(`L${i + 1} ${fmt(v)}`, 10 + i * bw + bw / 2, cv.height - 5);
  });
}
