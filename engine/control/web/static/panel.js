// The staff's panel: state from /api/state, then live from /events (server-sent events); every
// control is a small JSON POST that the engine checks like the OSC message it stands for.
"use strict";

const $ = (id) => document.getElementById(id);
const values = {};          // parameter → value, as the engine last said
const sliders = {};         // parameter → {input, output, spec}
const touched = {};         // parameter → when the staff last moved it (the engine's echo waits)
let scenes = [];
let lastThumb = -1;

function message(text) {
  const m = $("message");
  m.textContent = text;
  m.hidden = !text;
  clearTimeout(message.timer);
  if (text) message.timer = setTimeout(() => { m.hidden = true; }, 6000);
}

async function post(path, body) {
  try {
    const r = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const doc = await r.json().catch(() => ({}));
    if (!r.ok) message(doc.error || `${path}: HTTP ${r.status}`);
    return r.ok;
  } catch (e) {
    message(`the engine did not answer (${e.message})`);
    return false;
  }
}

function fmt(spec, v) {
  if (spec.kind !== "float") return String(Math.round(v));
  const span = spec.hi - spec.lo;
  return v.toFixed(span >= 100 ? 0 : span >= 10 ? 1 : 2);
}

// ---------------------------------------------------------------- parameters as sliders
function sender(name) {
  // latest wins: one request in flight per parameter, the newest value sent after it
  let busy = false, pending = null;
  return async function send(v) {
    pending = v;
    if (busy) return;
    busy = true;
    while (pending !== null) {
      const value = pending;
      pending = null;
      await post("/api/param", { name, value });
    }
    busy = false;
  };
}

function slider(spec) {
  const row = document.createElement("div");
  row.className = "param";
  const id = "p-" + spec.name;
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = spec.name;
  const input = document.createElement("input");
  Object.assign(input, { type: "range", id, min: spec.lo, max: spec.hi, value: spec.value });
  input.step = spec.kind === "float" ? (spec.hi - spec.lo) / 1000 : 1;
  input.dataset.param = spec.name;
  input.title = spec.doc;
  const output = document.createElement("output");
  output.htmlFor = id;
  output.textContent = fmt(spec, spec.value);
  const doc = document.createElement("small");
  doc.textContent = `${spec.doc} (${fmt(spec, spec.lo)}…${fmt(spec, spec.hi)})`;
  const send = sender(spec.name);
  input.addEventListener("input", () => {
    touched[spec.name] = Date.now();
    output.textContent = fmt(spec, Number(input.value));
    send(Number(input.value));
  });
  row.append(label, input, output, doc);
  sliders[spec.name] = { input, output, spec };
  return row;
}

function buildParams(params, scene) {
  const groups = {};
  for (const p of params) {
    const group = p.name.split(".")[0];
    (groups[group] ||= []).push(p);
    values[p.name] = p.value;
  }
  const box = $("params");
  box.replaceChildren();
  for (const [group, list] of Object.entries(groups)) {
    const d = document.createElement("details");
    d.dataset.group = group;
    d.open = group === "engine" || group === scene;
    const s = document.createElement("summary");
    s.textContent = `${group} (${list.length})`;
    d.append(s, ...list.map(slider));
    box.append(d);
  }
}

function showValue(name, v) {
  values[name] = v;
  const s = sliders[name];
  if (s && !(Date.now() - (touched[name] || 0) < 1500)) {  // not while the staff's finger is on it
    s.input.value = v;
    s.output.textContent = fmt(s.spec, v);
  }
  if (name === "engine.blackout") $("blackout").setAttribute("aria-pressed", String(v >= 0.5));
}

// ---------------------------------------------------------------- scenes, presets, blackout
function buttons(box, names, path) {
  box.replaceChildren(...names.map((name) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = name;
    b.dataset.name = name;
    b.addEventListener("click", () => post(path, { name }));
    return b;
  }));
}

$("blackout").addEventListener("click", () => {
  const on = (values["engine.blackout"] || 0) >= 0.5;
  post("/api/blackout", { value: on ? 0 : 1 });
});

// ---------------------------------------------------------------- status
function uptime(s) {
  const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
  return d ? `${d} d ${h} h` : h ? `${h} h ${m} min` : `${m} min ${Math.floor(s % 60)} s`;
}

function showStatus(st) {
  const health = $("health");
  const ok = st.ok === true;
  health.textContent = st.error ? "status failed" : st.sleeping ? "sleeping" : ok ? "running" : "trouble";
  health.className = "badge " + (ok ? "ok" : "bad");
  $("fps").textContent = st.fps == null ? "–" : `${st.fps.toFixed(1)} fps`;
  const cam = st.camera || {};
  $("camera").textContent = cam.status || cam.source || "–";
  $("viewer").textContent = st.viewer_present ? "someone is there" : "nobody";
  $("uptime").textContent = st.uptime_s == null ? "–" : uptime(st.uptime_s);
  const errs = Object.entries(st.errors || {}).filter(([, n]) => n > 0);
  $("errors").textContent = errs.length ? errs.map(([k, n]) => `${k} ${n}`).join(", ") : "none";
  $("scene").textContent = st.scene || "–";
  for (const b of $("scenes").children) b.classList.toggle("current", b.dataset.name === st.scene);
  if (st.scene !== showStatus.scene) {  // a new scene: open its parameters
    showStatus.scene = st.scene;
    for (const d of $("params").children) if (d.dataset.group === st.scene) d.open = true;
  }
}

function showThumb(seq) {
  if (seq === lastThumb) return;
  lastThumb = seq;
  $("thumb").src = `/thumbnail.jpg?frame=${seq}`;
}

// ---------------------------------------------------------------- start
async function start() {
  const r = await fetch("/api/state");
  if (!r.ok) { message(`/api/state: HTTP ${r.status}`); return; }
  const state = await r.json();
  scenes = state.scenes;
  buttons($("scenes"), scenes, "/api/scene");
  if (state.presets.length) buttons($("presets"), state.presets, "/api/preset");
  buildParams(state.params, state.status.scene);
  showStatus(state.status);
  showValue("engine.blackout", values["engine.blackout"] || 0);
  const events = new EventSource("/events");
  events.addEventListener("state", (e) => {
    const doc = JSON.parse(e.data);
    showStatus(doc.status);
    for (const [name, v] of Object.entries(doc.values)) showValue(name, v);
    showThumb(doc.thumb);
  });
  events.onerror = () => {
    $("health").textContent = "disconnected";
    $("health").className = "badge bad";
  };
}

start().catch((e) => message(`the panel could not start: ${e.message}`));
