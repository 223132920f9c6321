// rnnkit explore: draws what the server computed. No maths of the network here: every
// number comes from /api/analyse (rnnkit's forward trace, the model's own predictions and
// its gradient through time); this script only lays them out and colours them.
"use strict";

const DEBOUNCE_MS = 150;
const $ = (id) => document.getElementById(id);
const fmt = (x) => (x === null || x === undefined ? "-" : (x + 0).toFixed(4));

// what the page shows now, and timings a test or a benchmark can read
const state = { info: null, data: null, sel: null, prefix: null, seq: 0, timer: null, steps: new Map(), canvases: [] };
window.rnnkitExplore = { renders: 0, errors: 0, last: null, state };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k === "style") Object.assign(node.style, v); // the CSSOM: allowed by the page's policy
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

async function getJSON(path) {
  const response = await fetch(path, { cache: "no-store" });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || `status ${response.status}`);
  return body;
}

function say(text, isError) {
  const m = $("message");
  m.textContent = text;
  m.className = isError ? "error" : "";
}

// -- asking the server -------------------------------------------------------------------
function scheduleAnalyse() {
  const inputAt = performance.now();
  clearTimeout(state.timer);
  state.timer = setTimeout(() => analyse(inputAt), DEBOUNCE_MS);
}

async function analyse(inputAt) {
  const text = $("text").value;
  const seq = ++state.seq;
  const sentAt = performance.now();
  try {
    const data = await getJSON("/api/analyse?text=" + encodeURIComponent(text));
    if (seq !== state.seq) return; // a newer keystroke has already asked again
    const receivedAt = performance.now();
    state.data = data;
    state.steps = new Map(); // the steps of this text, as the pointer asks for them
    render(data);
    await showStep(data);
    if (seq !== state.seq) return;
    say("");
    window.rnnkitExplore.renders += 1;
    window.rnnkitExplore.last = { inputAt, sentAt, receivedAt, renderedAt: performance.now(), text };
  } catch (err) {
    if (seq !== state.seq) return;
    window.rnnkitExplore.errors += 1;
    say(err.message, true);
  }
}

// -- drawing -------------------------------------------------------------------------------
function render(data) {
  const stripsOk = state.sel && data.strips[state.sel.strip] &&
    state.sel.t < data.tokens.length && data.strips[state.sel.strip].rows.some((r) => r.key === state.sel.key);
  if (!stripsOk && data.strips.length) {
    const s = data.strips[0];
    const h = s.rows.find((r) => r.key === "h") || s.rows[0];
    state.sel = { strip: 0, key: h.key, t: data.tokens.length - 1, unit: 0, atEnd: true };
  }
  if (state.sel && state.sel.atEnd) state.sel.t = data.tokens.length - 1; // follow the typing
  if (state.prefix === null || state.prefix >= data.tokens.length) state.prefix = data.tokens.length - 1;
  drawTokens(data);
  const said = data.task === "classify" ? ["under each token: how much P(predicted) falls without it"] : [];
  $("notes").textContent = [...said, ...data.notes].join(" · ");
  drawOutput(data);
  drawStrips(data);
  drawGradients(data.gradients, data.tokens);
}

function drawTokens(data) {
  const box = $("tokens");
  box.replaceChildren();
  const out = data.output;
  data.tokens.forEach((tok, i) => {
    const shown = tok === "\n" ? "↵" : tok.trim() === "" ? "␣" : tok; // a space, visible
    const span = el("span", { class: "token", "data-t": String(i + 1), title: `t = ${i + 1}` }, shown);
    if (data.task === "classify" && out.occlusion[i]) {
      // how much the predicted class loses when this token is left out
      const k = out.labels.indexOf(out.predicted);
      const drop = out.probs[k] - out.occlusion[i][k];
      span.style.background = colour(drop, 0.5);
      span.append(el("small", { text: (drop >= 0 ? "+" : "") + drop.toFixed(3) }));
    }
    if (data.task === "tag") {
      span.append(el("small", { class: "tag", text: `${out.tags[i]} ${out.probs[i].toFixed(2)}` }));
    }
    if (data.task === "lm") {
      if (i === state.prefix) span.classList.add("selected");
      span.addEventListener("click", () => { state.prefix = i; drawTokens(data); drawOutput(data); });
    }
    box.append(span);
  });
}

function drawOutput(data) {
  const box = $("output");
  box.replaceChildren();
  const out = data.output;
  const titles = {
    classify: "Class probabilities, and each token left out",
    tag: out.crf ? "Tags (the CRF's Viterbi path; its marginal probabilities)" : "Tags and their probabilities",
    lm: "The next token after each prefix (click a token)",
    seq2seq: "The output and its attention",
  };
  $("output-title").textContent = titles[data.task];
  if (data.task === "classify") drawClassify(box, data);
  if (data.task === "tag") {
    box.append(el("p", { class: "tags" }, out.tags.join(" ")));
    box.append(el("p", { class: "hint", text: "each tag under its token, above" }));
  }
  if (data.task === "lm") drawNext(box, data);
  if (data.task === "seq2seq") drawAttention(box, data);
}

function bar(label, p, cls) {
  const track = el("div", { class: "bar-track" }, el("div", { class: "bar", style: { width: `${(100 * p).toFixed(1)}%` } }));
  return el("div", { class: "bar-row " + (cls || "") }, el("span", { class: "label", text: label }), track,
    el("span", { class: "num", text: fmt(p) }));
}

function drawClassify(box, data) {
  const out = data.output;
  const probs = el("div", { id: "probs" });
  out.labels.forEach((label, k) => probs.append(bar(label, out.probs[k], "prob")));
  box.append(probs, el("p", { class: "predicted", text: `predicted: ${out.predicted}` }));
  const step = data.output_step; // the output layer's last step, as the trace gives it
  for (const [key, label] of Object.entries(step.labels)) {
    if (key === "y") box.append(el("p", { class: "eq output-eq", text: `${label} = ${vector(step.values[key])}` }));
  }
  const k = out.labels.indexOf(out.predicted);
  const table = el("table", { id: "occlusion" },
    el("tr", {}, el("th", { text: "left out" }), el("th", { text: `P(${out.predicted})` }), el("th", { text: "change" })));
  data.tokens.forEach((tok, i) => {
    const row = out.occlusion[i];
    const p = row ? row[k] : null;
    table.append(el("tr", {}, el("td", { text: tok }), el("td", { text: fmt(p) }),
      el("td", { text: row ? (p - out.probs[k] >= 0 ? "+" : "") + (p - out.probs[k]).toFixed(4) : "-" })));
  });
  box.append(el("div", { class: "scroll" }, table));
}

function drawNext(box, data) {
  const i = state.prefix;
  const prefix = data.tokens.slice(0, i + 1).join(data.tokens.every((t) => t.length <= 1) ? "" : " ");
  box.append(el("p", { class: "hint", text: `after "${prefix}":` }));
  const list = el("div", { id: "next" });
  for (const cand of data.output.next[i]) list.append(bar(JSON.stringify(cand.token), cand.p, "next"));
  box.append(list);
  const slider = el("input", { type: "range", min: "0", max: "2", step: "0.05", value: state.temperature || "1", id: "temperature" });
  const shown = el("span", { class: "num", text: slider.value });
  slider.addEventListener("input", () => { state.temperature = slider.value; shown.textContent = slider.value; });
  const button = el("button", { type: "button", id: "sample" }, "sample one token");
  button.addEventListener("click", sampleOne);
  box.append(el("div", { class: "controls" }, el("label", { for: "temperature", text: "temperature" }), slider, shown, button));
}

async function sampleOne() {
  const text = $("text").value;
  const t = state.temperature || "1";
  try {
    const got = await getJSON(`/api/sample?text=${encodeURIComponent(text)}&temperature=${t}`);
    $("text").value = text + got.token;
    state.prefix = null;
    scheduleAnalyse();
  } catch (err) {
    say(err.message, true);
  }
}

function drawAttention(box, data) {
  const out = data.output;
  box.append(el("p", { class: "translation", text: out.output.join(" ") || "(empty)" }));
  if (!out.attention) {
    box.append(el("p", { class: "hint", text: "this model has no attention" }));
    return;
  }
  const table = el("table", { id: "attention" });
  table.append(el("tr", {}, el("th", { text: "" }), ...data.tokens.map((t) => el("th", { text: t }))));
  out.attention.forEach((row, j) => {
    const cells = row.map((w) => el("td", { style: { background: colour(w, 1) }, text: w.toFixed(2) }));
    table.append(el("tr", {}, el("th", { text: out.output[j] ?? "<eos>" }), ...cells));
  });
  box.append(el("div", { class: "scroll" }, table));
}

// a value as a colour: red above zero, blue below, white at zero, full at |v| = scale
function colour(v, scale) {
  const a = Math.max(-1, Math.min(1, v / (scale || 1)));
  const fade = Math.round(255 * (1 - Math.abs(a)));
  return a >= 0 ? `rgb(255,${fade},${fade})` : `rgb(${fade},${fade},255)`;
}

function vector(values) {
  const shown = values.slice(0, 12).map(fmt).join(" ");
  return `[${shown}${values.length > 12 ? ` ... (${values.length} values)` : ""}]`;
}

function drawStrips(data) {
  const box = $("strips");
  box.replaceChildren();
  state.canvases = [];
  const T = data.tokens.length;
  const width = Math.max(200, box.clientWidth || 300);
  data.strips.forEach((section, si) => {
    box.append(el("h3", { text: section.title }));
    for (const row of section.rows) {
      const d = row.values[0].length;
      const cw = Math.max(6, Math.min(48, Math.floor(width / T)));
      const rh = Math.max(1, Math.min(20, Math.floor(160 / d))); // a strip stays under ~160 px but for d > 160
      const canvas = el("canvas", { width: String(cw * T), height: String(rh * d), "data-key": row.key,
        tabindex: "0", "aria-label": `${row.label}: ${d} units by ${T} steps; arrow keys move` });
      const strip = { canvas, small: image(row.values), si, key: row.key, cw, rh };
      state.canvases.push(strip);
      const choose = (t, unit) => {
        t = Math.min(T - 1, Math.max(0, t));
        unit = Math.min(d - 1, Math.max(0, unit));
        state.sel = { strip: si, key: row.key, t, unit, atEnd: t === T - 1 };
        markSelection();
        showStep(data).catch((err) => say(err.message, true));
      };
      const pick = (event) => {
        const r = canvas.getBoundingClientRect();
        choose(Math.floor((event.clientX - r.left) / cw), Math.floor((event.clientY - r.top) / rh));
      };
      canvas.addEventListener("pointermove", pick);
      canvas.addEventListener("pointerdown", pick);
      canvas.addEventListener("keydown", (event) => { // the same, without a pointer
        const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
        if (!(event.key in moves)) return;
        event.preventDefault();
        const here = state.sel && state.sel.strip === si && state.sel.key === row.key ? state.sel : { t: T - 1, unit: 0 };
        choose(here.t + moves[event.key][0], here.unit + moves[event.key][1]);
      });
      box.append(el("div", { class: "strip" }, el("div", { class: "eq", text: row.label }),
        el("div", { class: "scroll" }, canvas)));
    }
  });
  markSelection();
}

// each strip drawn again, the selected cell outlined and its token marked
function markSelection() {
  const sel = state.sel;
  for (const s of state.canvases) {
    const ctx = s.canvas.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(s.small, 0, 0, s.canvas.width, s.canvas.height);
    if (sel && sel.strip === s.si && sel.key === s.key) {
      ctx.strokeStyle = "#000";
      ctx.lineWidth = 2;
      ctx.strokeRect(sel.t * s.cw + 1, sel.unit * s.rh, s.cw - 2, Math.max(2, s.rh));
    }
  }
  document.querySelectorAll("#tokens .token").forEach((span, i) => {
    span.classList.toggle("pointed", !!sel && i === sel.t);
  });
}

// one pixel per (step, unit) in a small image, scaled up without smoothing when drawn:
// quick even for hundreds of units over tens of steps
function image(values) {
  const T = values.length, d = values[0].length;
  let scale = 0;
  for (const col of values) for (const v of col) scale = Math.max(scale, Math.abs(v));
  scale = scale <= 1 ? 1 : scale; // states and gates of tanh and sigmoid: their own range
  const small = document.createElement("canvas");
  small.width = T;
  small.height = d;
  const sctx = small.getContext("2d");
  const pixels = sctx.createImageData(T, d);
  values.forEach((col, t) => col.forEach((v, j) => {
    const a = Math.max(-1, Math.min(1, v / scale));
    const fade = Math.round(255 * (1 - Math.abs(a)));
    pixels.data.set(a >= 0 ? [255, fade, fade, 255] : [fade, fade, 255, 255], 4 * (j * T + t));
  }));
  sctx.putImageData(pixels, 0, 0);
  return small;
}

// the step under the pointer: every number of it, asked of the server once per step
async function showStep(data) {
  const sel = state.sel;
  if (!sel) return drawEquation(data, null);
  const strip = data.strips[sel.strip];
  const key = `${strip.section}:${sel.t + 1}`;
  if (!state.steps.has(key)) {
    const q = `text=${encodeURIComponent(data.text)}&section=${strip.section}&t=${sel.t + 1}`;
    const view = await getJSON("/api/step?" + q);
    if (data !== state.data) return; // a newer text has come meanwhile
    state.steps.set(key, view);
  }
  const now = state.sel;
  if (`${data.strips[now.strip].section}:${now.t + 1}` === key) drawEquation(data, state.steps.get(key));
}

function drawEquation(data, view) {
  const box = $("equation");
  box.replaceChildren();
  if (!view) {
    box.append(el("p", { class: "hint", text: "this model has no recurrent layer to show" }));
    return;
  }
  const sel = state.sel;
  const { section, step } = view;
  const token = step.token === null ? "" : ` ${JSON.stringify(step.token)}`;
  box.append(el("div", { class: "where", text: `${section.title}; step t = ${step.t}${token}, unit ${sel.unit + 1}` }));
  const d = data.strips[sel.strip].rows[0].values[0].length;
  for (const [key, label] of Object.entries(step.labels)) {
    const v = step.values[key];
    const flat = Array.isArray(v) ? v : [v];
    const unit = flat.length === d && key !== "x" ? `unit ${sel.unit + 1}: ${fmt(flat[sel.unit])}   ` : "";
    const ints = flat.every((x) => Number.isInteger(x)) && key === "x";
    const all = ints && flat.length > 12 ? `one-hot: 1 at ${flat.indexOf(1)} of ${flat.length}` : ints ? `[${flat.join(" ")}]` : vector(flat);
    box.append(el("div", { class: "row" + (key === sel.key ? " current" : ""), "data-key": key },
      `${label}   ${unit}${all}`));
  }
  for (const note of step.notes) box.append(el("div", { class: "row note", text: note }));
}

function drawGradients(g, tokens) {
  const box = $("gradients");
  box.replaceChildren();
  box.append(el("p", { class: "hint", text: `the loss at ${g.target}` + (g.loss === null ? "" : `: ${fmt(g.loss)}`) }));
  for (const [name, norms] of Object.entries(g.entries)) {
    const K = norms.length;
    const cw = Math.max(6, Math.min(32, Math.floor(Math.max(200, box.clientWidth || 300) / K)));
    const H = 90;
    const canvas = el("canvas", { width: String(cw * K), height: String(H), "data-entry": name });
    const ctx = canvas.getContext("2d");
    const top = Math.max(...norms.map((x) => x || 0)) || 1;
    norms.forEach((x, k) => { // k = 0, the last step, drawn at the right under its token
      const h = Math.max(1, Math.round((H - 2) * (x || 0) / top));
      ctx.fillStyle = "#c44";
      ctx.fillRect((K - 1 - k) * cw + 1, H - h, cw - 2, h);
    });
    const ratio = norms[0] ? norms[K - 1] / norms[0] : null;
    const symbol = name.endsWith(" c") ? "||dL/dc||" : "||dL/dh||"; // an LSTM's cell state
    const words = `${name}: ${symbol} ${fmt(norms[0])} at the last step (k = 0), ${fmt(norms[K - 1])} at the first` +
      ` (k = ${K - 1}${ratio === null ? "" : `, ${ratio.toPrecision(3)} times`})`;
    box.append(el("div", { class: "strip" }, el("div", { class: "eq", text: words }), el("div", { class: "scroll" }, canvas)));
  }
  for (const note of g.notes) box.append(el("p", { class: "hint", text: note }));
}

// -- start ---------------------------------------------------------------------------------
async function start() {
  try {
    const info = await getJSON("/api/model");
    state.info = info;
    $("model").textContent = `${info.name}: ${info.task}; layers ${info.layers.join(", ")}`;
    const input = $("text");
    input.maxLength = info.max_chars;
    input.placeholder = info.task === "tag" ? "words separated by spaces" : "a text for the model";
    if (info.example && !input.value) input.value = info.example;
    input.addEventListener("input", scheduleAnalyse);
    if (input.value.trim()) analyse(performance.now());
  } catch (err) {
    say(err.message, true);
  }
}

start();
