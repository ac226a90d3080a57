// The playground page: controls, drawing and the URL state. Every number it shows comes from
// the server (the descentlab library); this file only asks, animates and draws. The network
// half (layers, training session, its drawings) is in network.js, loaded first.
"use strict";
const $ = (id) => document.getElementById(id);
const COLORS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#008080", "#9a6324", "#000075"];
const RACE_FIELDS = ["lr", "momentum", "nesterov", "beta1", "beta2", "eps", "weight_decay", "damping", "schedule"];
const FIRST_ORDER = ["gd", "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "adamw", "adamax", "nadam", "radam", "lion"];
const state = {
  meta: null, lang: "en",
  race: { landscape: null, runs: [], index: 0, playing: false, basins: null, sweep: null, critical: null },
  net: { id: null, data: null, frame: null, history: [], playing: false, abort: null, layers: [4, 2] },
};
window.playground = state;  // read by the browser tests

// ---------------------------------------------------------------- helpers
function t(key) { return (I18N[state.lang] && I18N[state.lang][key]) || I18N.en[key] || key; }
async function api(path, body, method) {
  const opts = { method: method || (body === undefined ? "GET" : "POST"), headers: {} };
  if (body !== undefined) { opts.headers["content-type"] = "application/json"; opts.body = JSON.stringify(body); }
  const r = await fetch(path, opts);
  const data = await r.json().catch(() => ({ error: `HTTP ${r.status}` }));
  if (!r.ok) throw new Error(data.error || `HTTP ${r.status}`);
  return data;
}
function fmt(v) { return v === null || v === undefined ? "–" : Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : (+v).toPrecision(4); }
function option(sel, values, labels) {
  sel.innerHTML = "";
  values.forEach((v, i) => { const o = document.createElement("option"); o.value = v; o.textContent = labels ? labels[i] : v; sel.appendChild(o); });
}
function ramp(stops, v) {  // v in [0, 1] → "rgb(...)" along colour stops
  v = Math.min(1, Math.max(0, v)); const n = stops.length - 1; const i = Math.min(n - 1, Math.floor(v * n)); const f = v * n - i;
  return stops[i].map((c, k) => Math.round(c + (stops[i + 1][k] - c) * f));
}
const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
const DIVERGING = [[245, 147, 34], [255, 255, 255], [8, 119, 189]];  // orange − … blue +

// ---------------------------------------------------------------- i18n and hover help
function applyLanguage() {
  document.documentElement.lang = state.lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  $("race-play").textContent = t(state.race.playing ? "pause" : "play");
  $("net-play").textContent = t(state.net.playing ? "pause" : "play");
  renderReadout();
}
document.addEventListener("mouseover", (e) => {
  const el = e.target.closest("[data-tip]"); const tip = $("tooltip");
  if (!el) { tip.hidden = true; return; }
  tip.textContent = t(el.dataset.tip); tip.hidden = false;
  tip.style.left = Math.min(e.clientX + 12, innerWidth - 330) + "px"; tip.style.top = (e.clientY + 14) + "px";
});

// ---------------------------------------------------------------- URL state
function collectState() {
  const racers = [...document.querySelectorAll(".racer")].map((row) => {
    const o = { name: row.querySelector(".name").value };
    RACE_FIELDS.forEach((f) => {
      const el = row.querySelector("." + f); if (el.disabled) return;
      if (el.type === "checkbox") { if (el.checked) o[f] = "1"; } else if (el.value !== "" && el.value !== "none") o[f] = el.value;
    });
    return o;
  });
  return {
    lang: state.lang, fn: $("function").value, formula: $("formula").value, steps: $("steps").value,
    sx: $("start-x").value, sy: $("start-y").value, speed: $("race-speed").value,
    racers: racers.map((o) => Object.entries(o).map(([k, v]) => `${k}:${v}`).join(",")).join(";"),
    basins: +$("show-basins").checked, sweep: +$("show-sweep").checked, crit: +$("show-critical").checked,
    ds: $("dataset").value, noise: $("noise").value, ratio: $("train-ratio").value, batch: $("batch").value,
    seed: $("seed").value, feats: [...document.querySelectorAll("#features input:checked")].map((e) => e.value).join(","),
    layers: state.net.layers.join(","), act: $("activation").value, init: $("init").value, bn: +$("batchnorm").checked,
    reg: $("regularization").value, rate: $("reg-rate").value, opt: $("net-optimizer").value, lr: $("net-lr").value,
    sched: $("schedule").value, test: +$("show-test").checked, disc: +$("discretize").checked,
  };
}
function saveUrl() {
  const q = new URLSearchParams(collectState());
  history.replaceState(null, "", "#" + q.toString());
}
function loadUrl() {
  const q = new URLSearchParams(location.hash.slice(1));
  const get = (k, d) => (q.has(k) ? q.get(k) : d);
  state.lang = get("lang", "en"); $("lang").value = state.lang;
  $("function").value = get("fn", "rosenbrock"); $("formula").value = get("formula", "");
  $("steps").value = get("steps", "300"); $("start-x").value = get("sx", "-1.5"); $("start-y").value = get("sy", "2");
  $("race-speed").value = get("speed", "5");
  $("racers").innerHTML = "";
  const racers = get("racers", "name:adam,lr:0.05;name:momentum,lr:0.001;name:newton");
  racers.split(";").filter(Boolean).forEach((spec) => {
    const o = Object.fromEntries(spec.split(",").map((kv) => kv.split(":")));
    if (state.meta.race_optimizers[o.name]) addRacer(o);
  });
  $("show-basins").checked = get("basins", "0") === "1"; $("show-sweep").checked = get("sweep", "0") === "1";
  $("show-critical").checked = get("crit", "0") === "1";
  $("dataset").value = get("ds", "circle"); $("noise").value = get("noise", "0"); $("train-ratio").value = get("ratio", "0.5");
  $("batch").value = get("batch", "10"); $("seed").value = get("seed", "0");
  const feats = get("feats", "x,y").split(",");
  document.querySelectorAll("#features input").forEach((el) => { el.checked = feats.includes(el.value); });
  state.net.layers = get("layers", "4,2").split(",").filter(Boolean).map(Number);
  renderLayers();
  $("activation").value = get("act", "tanh"); $("init").value = get("init", "xavier"); $("batchnorm").checked = get("bn", "0") === "1";
  $("regularization").value = get("reg", "none"); $("reg-rate").value = get("rate", "0");
  $("net-optimizer").value = get("opt", "sgd"); $("net-lr").value = get("lr", "0.03"); $("schedule").value = get("sched", "none");
  $("show-test").checked = get("test", "0") === "1"; $("discretize").checked = get("disc", "0") === "1";
}

// ---------------------------------------------------------------- landscape race
function addRacer(spec) {
  const row = document.createElement("div"); row.className = "racer";
  const sel = document.createElement("select"); sel.className = "name"; sel.dataset.tip = "tip_racer";
  option(sel, Object.keys(state.meta.race_optimizers)); sel.value = spec.name || "gd";
  row.appendChild(sel);
  RACE_FIELDS.forEach((f) => {
    const lab = document.createElement("label"); lab.textContent = f === "weight_decay" ? "wd" : f;
    lab.dataset.tip = "tip_" + f;
    let inp;
    if (f === "schedule") { inp = document.createElement("select"); option(inp, state.meta.schedules); }
    else { inp = document.createElement("input"); inp.type = f === "nesterov" ? "checkbox" : "number"; inp.step = "any"; }
    inp.className = f;
    if (spec[f] !== undefined) { if (inp.type === "checkbox") inp.checked = spec[f] === "1"; else inp.value = spec[f]; }
    lab.appendChild(inp); row.appendChild(lab);
  });
  const rm = document.createElement("button"); rm.textContent = "×"; rm.title = t("remove");
  rm.onclick = () => { row.remove(); recolorRacers(); saveUrl(); };
  row.appendChild(rm);
  sel.onchange = () => { syncRacer(row, true); saveUrl(); };
  row.addEventListener("change", saveUrl);
  $("racers").appendChild(row); syncRacer(row, false); recolorRacers();
}
function syncRacer(row, resetValues) {  // enable only what this optimizer takes; show its defaults
  const defaults = state.meta.race_optimizers[row.querySelector(".name").value];
  const name = row.querySelector(".name").value;
  RACE_FIELDS.forEach((f) => {
    const el = row.querySelector("." + f); el.disabled = f === "schedule" ? !FIRST_ORDER.includes(name) : !(f in defaults);
    if (f === "schedule") { if (resetValues || el.disabled) el.value = "none"; return; }
    if (el.type === "checkbox") { if (resetValues) el.checked = !!defaults[f]; }
    else { el.placeholder = f in defaults ? String(defaults[f]) : ""; if (resetValues || el.disabled) el.value = ""; }
  });
}
function recolorRacers() { document.querySelectorAll(".racer").forEach((r, i) => { r.style.borderLeftColor = COLORS[i % COLORS.length]; }); }
function landscapeBody() {
  const formula = $("formula").value.trim();
  return formula ? { formula } : { function: $("function").value };
}
function optimizerSpecs() {
  return [...document.querySelectorAll(".racer")].map((row) => {
    const o = { name: row.querySelector(".name").value };
    RACE_FIELDS.forEach((f) => {
      const el = row.querySelector("." + f); if (el.disabled) return;
      if (f === "schedule") { if (el.value !== "none") o[f] = el.value; }
      else if (el.type === "checkbox") { if (el.checked) o[f] = true; } else if (el.value !== "") o[f] = Number(el.value);
    });
    return o;
  });
}
async function loadLandscape() {
  $("formula-error").textContent = "";
  try {
    state.race.landscape = await api("/api/landscape", { ...landscapeBody(), grid: 150 });
    state.race.runs = []; state.race.index = 0; state.race.basins = null; state.race.sweep = null; state.race.critical = null;
    await refreshToggles();
  } catch (e) { $("formula-error").textContent = e.message; state.race.landscape = null; }
  drawLandscape(); drawRaceLoss(); renderReadout();
}
async function runRace() {
  $("race-error").textContent = "";
  if (!state.race.landscape) await loadLandscape();
  if (!state.race.landscape) return;
  try {
    const res = await api("/api/race", { ...landscapeBody(), start: [Number($("start-x").value), Number($("start-y").value)],
      steps: Number($("steps").value), optimizers: optimizerSpecs() });
    state.race.runs = res.runs; state.race.index = 0; setRacePlaying(true);
  } catch (e) { $("race-error").textContent = e.message; }
  renderReadout();
}
function setRacePlaying(on) { state.race.playing = on; $("race-play").textContent = t(on ? "pause" : "play"); }
function raceLength() { return Math.max(0, ...state.race.runs.map((r) => r.path.length - 1)); }
function raceTick() {
  if (state.race.playing) {
    state.race.index = Math.min(raceLength(), state.race.index + Number($("race-speed").value));
    if (state.race.index >= raceLength()) setRacePlaying(false);
    drawLandscape(); drawRaceLoss(); renderReadout();
  }
  requestAnimationFrame(raceTick);
}
function toCanvas(domain, w, h, x, y) {
  const [[x0, x1], [y0, y1]] = domain; return [(x - x0) / (x1 - x0) * w, h - (y - y0) / (y1 - y0) * h];
}
function drawLandscape() {
  const cv = $("landscape"), ctx = cv.getContext("2d"), L = state.race.landscape;
  ctx.clearRect(0, 0, cv.width, cv.height);
  if (!L) return;
  const z = L.z, n = z.length; let lo = Infinity;
  z.forEach((row) => row.forEach((v) => { if (v !== null && v < lo) lo = v; }));
  let hi = -Infinity; z.forEach((row) => row.forEach((v) => { if (v !== null) hi = Math.max(hi, Math.log1p(v - lo)); }));
  const img = new ImageData(n, n), bands = 24;
  const band = (v) => (v === null ? -1 : Math.floor(Math.log1p(v - lo) / (hi || 1) * bands));
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    const v = z[i][j], b = band(v), k = ((n - 1 - i) * n + j) * 4;
    let c = v === null ? [200, 200, 200] : ramp(VIRIDIS, b / bands);
    const edge = (i + 1 < n && band(z[i + 1][j]) !== b) || (j + 1 < n && band(z[i][j + 1]) !== b);
    if (edge) c = c.map((x) => x * 0.7);
    img.data.set([...c, 255], k);
  }
  const off = document.createElement("canvas"); off.width = n; off.height = n; off.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  if (state.race.basins && $("show-basins").checked) drawBasins(ctx, cv, off); else ctx.drawImage(off, 0, 0, cv.width, cv.height);
  const marks = $("show-critical").checked && state.race.critical ? state.race.critical : L.critical_points;
  marks.forEach((p) => {
    const [px, py] = toCanvas(L.domain, cv.width, cv.height, p.location[0], p.location[1]);
    ctx.fillStyle = "#fff"; ctx.strokeStyle = "#000"; ctx.font = "16px sans-serif"; ctx.textAlign = "center";
    const sym = { minimum: "★", saddle: "✕", maximum: "▲", degenerate: "◆" }[p.kind] || "•";
    ctx.strokeText(sym, px, py + 6); ctx.fillText(sym, px, py + 6);
  });
  state.race.runs.forEach((run, r) => {
    ctx.strokeStyle = COLORS[r % COLORS.length]; ctx.lineWidth = 2; ctx.beginPath();
    const last = Math.min(state.race.index, run.path.length - 1);
    for (let s = 0; s <= last; s++) {
      const p = run.path[s]; if (p[0] === null) break;
      const [px, py] = toCanvas(L.domain, cv.width, cv.height, p[0], p[1]);
      if (s === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
    }
    ctx.stroke();
  });
  const [sx, sy] = toCanvas(L.domain, cv.width, cv.height, Number($("start-x").value), Number($("start-y").value));
  ctx.fillStyle = "#fff"; ctx.strokeStyle = "#000"; ctx.lineWidth = 1; ctx.beginPath(); ctx.arc(sx, sy, 5, 0, 7); ctx.fill(); ctx.stroke();
}
function drawBasins(ctx, cv) {
  const b = state.race.basins, n = b.labels.length, img = new ImageData(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    const lab = b.labels[i][j]; const c = lab < 0 ? [60, 60, 60] : COLORS[lab % COLORS.length].match(/\w\w/g).map((h) => parseInt(h, 16));
    img.data.set([...c, 160], ((n - 1 - i) * n + j) * 4);
  }
  const off = document.createElement("canvas"); off.width = n; off.height = n; off.getContext("2d").putImageData(img, 0, 0);
  ctx.drawImage(off, 0, 0, cv.width, cv.height);
}
function drawLineChart(cv, series, opts) {  // series: [{values, color, dash}] against index, log y
  const ctx = cv.getContext("2d"); ctx.clearRect(0, 0, cv.width, cv.height);
  const all = series.flatMap((s) => s.values).filter((v) => v !== null && v > 0 && isFinite(v));
  if (!all.length) return;
  const lo = Math.log10(Math.min(...all)), hi = Math.log10(Math.max(...all)) + 1e-9;
  const len = Math.max(2, ...series.map((s) => s.values.length), opts.length || 0);
  const pad = 34, W = cv.width - pad - 4, H = cv.height - 20;
  ctx.fillStyle = "#555"; ctx.font = "10px sans-serif"; ctx.textAlign = "left";
  ctx.fillText("1e" + hi.toFixed(1), 1, 10); ctx.fillText("1e" + lo.toFixed(1), 1, H);
  ctx.fillText(opts.xlabel || "step", pad + W / 2, cv.height - 4);
  series.forEach((s) => {
    ctx.strokeStyle = s.color; ctx.setLineDash(s.dash ? [4, 3] : []); ctx.lineWidth = 1.5; ctx.beginPath(); let started = false;
    s.values.forEach((v, k) => {
      if (v === null || !(v > 0)) return;
      const x = pad + k / (len - 1) * W, y = 4 + (hi - Math.log10(v)) / (hi - lo || 1) * (H - 4);
      if (!started) { ctx.moveTo(x, y); started = true; } else ctx.lineTo(x, y);
    });
    ctx.stroke();
  });
  ctx.setLineDash([]);
}
function drawRaceLoss() {
  const L = state.race.landscape; const best = L ? Math.min(0, ...L.minima.map((m) => m.value)) : 0;
  drawLineChart($("race-loss"), state.race.runs.map((run, r) => ({
    color: COLORS[r % COLORS.length],
    values: run.losses.slice(0, state.race.index + 1).map((v) => (v === null ? null : v - best + 1e-16)),
  })), { length: raceLength() + 1 });
}
function renderReadout() {
  const body = $("readout").querySelector("tbody"); body.innerHTML = "";
  state.race.runs.forEach((run, r) => {
    const k = Math.min(state.race.index, run.path.length - 1), done = state.race.index >= run.path.length - 1;
    const tr = document.createElement("tr"); tr.style.color = COLORS[r % COLORS.length];
    const p = run.path[k];
    const cells = [run.optimizer, p && p[0] !== null ? `(${fmt(p[0])}, ${fmt(p[1])})` : "–", fmt(run.losses[k]),
      done && run.steps_to_converge >= 0 ? run.steps_to_converge : "–", done ? t(run.verdict) : "…"];
    cells.forEach((c, i) => { const td = document.createElement("td"); td.textContent = c; if (i === 4 && done) td.className = "verdict-" + run.verdict; tr.appendChild(td); });
    body.appendChild(tr);
  });
}
async function refreshToggles() {
  if (!state.race.landscape) return;
  const first = optimizerSpecs()[0];
  try {
    if ($("show-basins").checked && first) {
      state.race.basins = await api("/api/basins", { ...landscapeBody(), optimizer: first, n: 80, steps: 300 });
    }
    $("sweep-box").hidden = !$("show-sweep").checked;
    if ($("show-sweep").checked && first) {
      state.race.sweep = await api("/api/sweep", { ...landscapeBody(), optimizer: first,
        start: [Number($("start-x").value), Number($("start-y").value)], steps: Number($("steps").value) > 2000 ? 2000 : Number($("steps").value) });
      drawSweep();
    }
    $("critical-box").hidden = !$("show-critical").checked;
    if ($("show-critical").checked) {
      state.race.critical = (await api("/api/critical", landscapeBody())).critical_points;
      const body = $("critical-table").querySelector("tbody"); body.innerHTML = "";
      state.race.critical.forEach((p) => { const tr = document.createElement("tr"); tr.innerHTML = `<td>${t(p.kind)}</td><td>(${fmt(p.location[0])}, ${fmt(p.location[1])})</td><td>f = ${fmt(p.value)}</td>`; body.appendChild(tr); });
    }
  } catch (e) { $("race-error").textContent = e.message; }
  drawLandscape();
}
function drawSweep() {
  const s = state.race.sweep, cv = $("sweep"); if (!s) return;
  const colors = { monotone: "#1b7f1b", oscillating: "#b36b00", diverging: "#b00020", too_slow: "#888" };
  drawLineChart(cv, [{ values: s.final_gaps.map((v) => (v === null ? null : Math.abs(v) + 1e-16)), color: "#333" }], { xlabel: "lr (log)" });
  const ctx = cv.getContext("2d"), W = cv.width - 38, n = s.lrs.length;
  s.classes.forEach((c, k) => { ctx.fillStyle = colors[c]; ctx.fillRect(34 + k / (n - 1) * W - 3, cv.height - 30, 6, 8); });
  const note = $("sweep-note");
  note.textContent = `lr ${fmt(s.lrs[0])} … ${fmt(s.lrs[n - 1])}; ${t("stable_up_to")}: ${fmt(s.largest_stable_lr)} — `;
  Object.entries(colors).forEach(([k, c]) => { const sp = document.createElement("span"); sp.style.color = c; sp.textContent = "■ " + t(k) + "  "; note.appendChild(sp); });
}

// ---------------------------------------------------------------- export
function download(name, href) { const a = document.createElement("a"); a.href = href; a.download = name; document.body.appendChild(a); a.click(); a.remove(); }
function exportPng() {
  ["landscape", "race-loss", "output", "net-loss", "grad-bars"].forEach((id) => download(`${id}.png`, $(id).toDataURL("image/png")));
}
function exportCsv() {
  const runs = state.race.runs;
  if (runs.length) {
    const rows = ["step," + runs.map((r, i) => `${r.optimizer}_${i}_x,${r.optimizer}_${i}_y,${r.optimizer}_${i}_loss`).join(",")];
    for (let s = 0; s <= raceLength(); s++) rows.push(s + "," + runs.map((r) => (s < r.path.length ? `${r.path[s][0]},${r.path[s][1]},${r.losses[s]}` : ",,")).join(","));
    download("race.csv", "data:text/csv;charset=utf-8," + encodeURIComponent(rows.join("\n")));
  }
  if (state.net.history.length) {
    const keys = Object.keys(state.net.history[state.net.history.length - 1]);
    const rows = [keys.join(","), ...state.net.history.map((r) => keys.map((k) => r[k] ?? "").join(","))];
    download("training.csv", "data:text/csv;charset=utf-8," + encodeURIComponent(rows.join("\n")));
  }
}

// ---------------------------------------------------------------- wiring
async function init() {
  [state.meta] = await Promise.all([api("/api/meta"), i18nReady]);
  option($("function"), state.meta.functions.map((f) => f.name));
  option($("dataset"), Object.keys(state.meta.datasets));
  option($("activation"), state.meta.activations); option($("init"), state.meta.inits);
  option($("regularization"), state.meta.regularizations); option($("schedule"), state.meta.schedules);
  option($("net-optimizer"), Object.keys(state.meta.net_optimizers));
  const labels = { x: "x", y: "y", x2: "x²", y2: "y²", xy: "xy", sinx: "sin x", siny: "sin y" };
  state.meta.features.forEach((f) => {
    const lab = document.createElement("label"); const inp = document.createElement("input");
    inp.type = "checkbox"; inp.value = f; lab.appendChild(inp); lab.append(" " + labels[f]); $("features").appendChild(lab);
  });
  loadUrl(); applyLanguage();
  $("lang").onchange = () => { state.lang = $("lang").value; applyLanguage(); saveUrl(); };
  $("function").onchange = () => { $("formula").value = ""; const f = state.meta.functions.find((x) => x.name === $("function").value);
    if (f) { $("start-x").value = +(f.domain[0][0] * 0.7).toFixed(2); $("start-y").value = +(f.domain[1][1] * 0.7).toFixed(2); }
    saveUrl(); loadLandscape(); };
  let typing; $("formula").oninput = () => { clearTimeout(typing); typing = setTimeout(() => { saveUrl(); loadLandscape(); }, 400); };
  ["steps", "start-x", "start-y", "race-speed"].forEach((id) => { $(id).onchange = () => { saveUrl(); drawLandscape(); }; });
  ["show-basins", "show-sweep", "show-critical"].forEach((id) => { $(id).onchange = () => { saveUrl(); refreshToggles(); }; });
  $("add-racer").onclick = () => { if (document.querySelectorAll(".racer").length < state.meta.limits.optimizers) { addRacer({ name: "gd" }); saveUrl(); } };
  $("race-run").onclick = runRace;
  $("race-play").onclick = () => { if (state.race.index >= raceLength()) state.race.index = 0; setRacePlaying(!state.race.playing); };
  $("race-step").onclick = () => { setRacePlaying(false); state.race.index = Math.min(raceLength(), state.race.index + 1); drawLandscape(); drawRaceLoss(); renderReadout(); };
  $("race-reset").onclick = () => { setRacePlaying(false); state.race.index = 0; drawLandscape(); drawRaceLoss(); renderReadout(); };
  $("landscape").onclick = (e) => {
    const L = state.race.landscape; if (!L) return;
    const r = e.target.getBoundingClientRect(), [[x0, x1], [y0, y1]] = L.domain;
    $("start-x").value = +(x0 + (e.clientX - r.left) / r.width * (x1 - x0)).toFixed(3);
    $("start-y").value = +(y1 - (e.clientY - r.top) / r.height * (y1 - y0)).toFixed(3);
    saveUrl(); runRace();
  };
  ["dataset", "noise", "train-ratio", "batch", "seed", "activation", "init", "batchnorm", "regularization", "reg-rate",
    "net-lr", "schedule"].forEach((id) => { $(id).onchange = netChanged; });
  $("features").onchange = netChanged;
  $("net-optimizer").onchange = () => { $("net-lr").value = state.meta.net_optimizers[$("net-optimizer").value].lr; netChanged(); };
  ["show-test", "discretize"].forEach((id) => { $(id).onchange = () => { saveUrl(); drawOutput(); drawNetwork(); }; });
  $("batch-all").onclick = () => { $("batch").value = 2000; netChanged(); };
  $("regenerate").onclick = () => { $("seed").value = Number($("seed").value) + 1; netChanged(); };
  $("add-layer").onclick = () => { if (state.net.layers.length < state.meta.limits.layers) { state.net.layers.push(2); renderLayers(); netChanged(); } };
  $("remove-layer").onclick = () => { if (state.net.layers.length) { state.net.layers.pop(); renderLayers(); netChanged(); } };
  $("net-play").onclick = netPlay; $("net-step").onclick = netStep; $("net-reset").onclick = netReset;
  $("export-png").onclick = exportPng; $("export-csv").onclick = exportCsv;
  addEventListener("pagehide", () => { if (state.net.id) fetch(`/api/train/${state.net.id}`, { method: "DELETE", keepalive: true }); });
  requestAnimationFrame(raceTick);
  await loadLandscape(); await netReset();
  document.body.dataset.ready = "1";
}
init();
