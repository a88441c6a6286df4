// wasmgears dashboard: polls the JSON API once a second. Every value from
// the server is put in the page with textContent (never as HTML).
"use strict";

const POINTS = 120;
const $ = (id) => document.getElementById(id);
let prev = null;        // previous overview sample
let selected = null;    // execution id in the detail panel
let timer = null;

const series = { t: [], cmds: [], p50: [], p90: [], p99: [], ok: [], failed: [], aborted: [] };
const charts = {};

async function api(path, body) {
  const opts = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const r = await fetch("api/" + path, opts);
  let data = null;
  try { data = await r.json(); } catch (e) { /* not JSON */ }
  if (r.status === 401) { showLogin(); throw new Error("login required"); }
  if (!r.ok) throw new Error((data && data.error) || r.statusText);
  return data;
}

function showLogin() {
  $("login").hidden = false;
  $("main").hidden = true;
  $("logout").hidden = true;
  stop();
  $("password").focus();
}

function showMain() {
  $("login").hidden = true;
  $("main").hidden = false;
  start();
}

$("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("login-error").textContent = "";
  try {
    await api("login", { password: $("password").value });
    $("password").value = "";
    $("logout").hidden = false;
    showMain();
  } catch (e) {
    $("login-error").textContent = e.message === "login required" ? "wrong password" : e.message;
    $("login").hidden = false;
  }
});

$("logout").addEventListener("click", async () => { await api("logout", {}).catch(() => {}); showLogin(); });

function fmt(n) {
  if (n === undefined || n === null) return "–";
  if (n >= 1e9) return (n / 1e9).toFixed(2) + "G";
  if (n >= 1e6) return (n / 1e6).toFixed(2) + "M";
  if (n >= 1e4) return (n / 1e3).toFixed(1) + "k";
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
function bytes(n) {
  if (!n) return "0 B";
  const u = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return n.toFixed(i ? 1 : 0) + " " + u[i];
}

// quantile over the delta of two cumulative histograms (seconds -> ms),
// interpolated inside the bucket as Prometheus' histogram_quantile does.
function quantile(q, bounds, counts, before) {
  const d = counts.map((c, i) => c - (before ? before[i] : 0));
  const total = d[d.length - 1];
  if (!total) return null;
  const rank = q * total;
  for (let i = 0; i < d.length; i++) {
    if (d[i] >= rank) {
      if (bounds[i] < 0) return bounds[i - 1] * 1000; // +Inf bucket
      const lo = i === 0 ? 0 : bounds[i - 1];
      const below = i === 0 ? 0 : d[i - 1];
      const inb = d[i] - below;
      const frac = inb ? (rank - below) / inb : 1;
      return (lo + (bounds[i] - lo) * frac) * 1000;
    }
  }
  return null;
}

function push(key, v) {
  series[key].push(v);
  if (series[key].length > POINTS) series[key].shift();
}

function makeChart(el, labels, colors) {
  const opts = {
    width: Math.max(300, el.parentElement.clientWidth - 20), height: 180,
    series: [{}].concat(labels.map((l, i) => ({ label: l, stroke: colors[i], width: 1.5, spanGaps: true }))),
    scales: { x: { time: true, range: (u, min, max) => [max - POINTS, max] } },
    axes: [{}, { size: 50 }], legend: { live: false },
  };
  return new uPlot(opts, [[]].concat(labels.map(() => [])), el);
}

function charts_init() {
  if (charts.cmds) return;
  charts.cmds = makeChart($("chart-cmds"), ["commands/s"], ["#2563eb"]);
  charts.lat = makeChart($("chart-lat"), ["p50", "p90", "p99"], ["#16a34a", "#d97706", "#dc2626"]);
  charts.execs = makeChart($("chart-execs"), ["success", "failed", "aborted"], ["#16a34a", "#dc2626", "#6b7280"]);
}

function overview(o) {
  $("version").textContent = "v" + o.version + " · up " + o.uptime_seconds + "s";
  $("cmd-total").textContent = fmt(o.commands_total);
  $("clients").textContent = fmt(o.connected_clients);
  $("keys").textContent = fmt(o.keys);
  const ex = o.executions_total;
  const exTotal = ex.success + ex.failed + ex.aborted;
  $("exec-total").textContent = fmt(exTotal);
  $("exec-total").title = `success ${ex.success}, failed ${ex.failed}, aborted ${ex.aborted}`;
  if (o.gears_ready) {
    $("sessions-n").textContent = fmt(o.sessions);
    $("interp").textContent = o.interpreters_ready + " / " + o.interpreters_busy;
    $("guest-mem").textContent = bytes(o.guest_memory_bytes);
  }
  if (prev) {
    const dt = (o.time - prev.time) / 1000;
    if (dt > 0) {
      const rate = (o.commands_total - prev.commands_total) / dt;
      const pe = prev.executions_total;
      const rOk = (ex.success - pe.success) / dt, rF = (ex.failed - pe.failed) / dt, rA = (ex.aborted - pe.aborted) / dt;
      const p = (q) => quantile(q, o.latency.bounds || [], o.latency.counts || [], prev.latency.counts);
      const p50 = p(0.5), p90 = p(0.9), p99 = p(0.99);
      $("cmd-rate").textContent = fmt(rate);
      $("exec-rate").textContent = fmt(rOk + rF + rA);
      $("latency").textContent = p50 === null ? "–" : p50.toFixed(3) + " / " + p99.toFixed(3) + " ms";
      push("t", o.time / 1000); push("cmds", rate);
      push("p50", p50); push("p90", p90); push("p99", p99);
      push("ok", rOk); push("failed", rF); push("aborted", rA);
      charts_init();
      charts.cmds.setData([series.t, series.cmds]);
      charts.lat.setData([series.t, series.p50, series.p90, series.p99]);
      charts.execs.setData([series.t, series.ok, series.failed, series.aborted]);
    }
  }
  prev = o;
}

function cell(tr, text, cls) {
  const td = document.createElement("td");
  td.textContent = text === undefined || text === null ? "" : String(text);
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

function button(label, attrs, onclick, cls) {
  const b = document.createElement("button");
  b.textContent = label;
  for (const [k, v] of Object.entries(attrs)) b.setAttribute(k, v);
  if (cls) b.className = cls;
  b.addEventListener("click", (ev) => { ev.stopPropagation(); onclick(b); });
  return b;
}

function replaceRows(table, rows) {
  const tb = $(table).tBodies[0];
  tb.replaceChildren(...rows);
}

// render re-draws a table only when its data changed (rows keep their
// hover and focus between polls).
const last = {};
function render(name, list, fn) {
  const key = JSON.stringify(list) + (name === "executions" ? selected : "");
  if (last[name] === key) return;
  last[name] = key;
  fn(list);
}

function registrations(list) {
  replaceRows("registrations", list.map((r) => {
    const tr = document.createElement("tr");
    tr.dataset.reg = r.id;
    cell(tr, r.id);
    cell(tr, r.reader);
    cell(tr, r.mode);
    cell(tr, r.trigger || r.prefix);
    cell(tr, r.triggered, "triggered");
    cell(tr, r.success);
    cell(tr, r.failures, r.failures ? "error" : "");
    cell(tr, r.aborted);
    cell(tr, r.avg_run_ms.toFixed(2));
    cell(tr, r.reader === "StreamReader" ? r.lag_ms : "");
    cell(tr, r.paused ? "PAUSED" : r.status, "reg-status status-" + (r.paused ? "PAUSED" : r.status));
    const e = cell(tr, r.last_error, "error err-cell");
    if (r.last_error) e.title = r.last_error;
    const td = document.createElement("td");
    if (r.pausable) {
      td.appendChild(button(r.paused ? "Unpause" : "Pause", { "data-action": r.paused ? "unpause" : "pause", "data-id": r.id },
        (b) => act(b, "pause", { id: r.id, paused: !r.paused })));
    }
    tr.appendChild(td);
    return tr;
  }));
}

function sessions(list) {
  replaceRows("sessions", list.map((s) => {
    const tr = document.createElement("tr");
    cell(tr, s.id);
    cell(tr, s.desc);
    cell(tr, s.registrations.join(", "));
    cell(tr, s.requirements.join(", "));
    cell(tr, bytes(s.memory_bytes));
    return tr;
  }));
}

function executions(list) {
  replaceRows("executions", list.map((e) => {
    const tr = document.createElement("tr");
    tr.className = "clickable" + (e.id === selected ? " selected" : "");
    tr.dataset.exec = e.id;
    cell(tr, e.id.slice(e.id.lastIndexOf("-") + 1)).title = e.id;
    cell(tr, e.reader + (e.registered ? " (reg)" : ""));
    cell(tr, e.outcome || e.status, "exec-status status-" + (e.outcome || e.status));
    cell(tr, e.status === "done" || e.status === "aborted" ? e.results : "");
    cell(tr, e.errors.length || "", e.errors.length ? "error" : "");
    cell(tr, e.duration_ms.toFixed(2));
    const td = document.createElement("td");
    if (e.status === "running" || e.status === "created") {
      td.appendChild(button("Abort", { "data-action": "abort", "data-id": e.id }, (b) => act(b, "abort", { id: e.id }), "danger"));
    }
    tr.appendChild(td);
    tr.addEventListener("click", () => { selected = e.id; detail(); });
    return tr;
  }));
}

async function act(btn, path, body) {
  btn.disabled = true;
  try {
    await api(path, body);
    $("message").textContent = path + " " + body.id + ": done";
    await refreshLists();
  } catch (e) {
    $("message").textContent = path + " " + body.id + ": " + e.message;
  } finally {
    btn.disabled = false;
  }
}

async function detail() {
  if (!selected) return;
  let e;
  try { e = await api("execution?id=" + encodeURIComponent(selected)); } catch (err) { $("detail").hidden = true; return; }
  $("detail").hidden = false;
  $("detail-id").textContent = e.id;
  const dl = $("detail-info");
  dl.replaceChildren();
  for (const [k, v] of [["reader", e.reader], ["status", e.outcome || e.status], ["session", e.session],
    ["registered", e.registered], ["results", e.results], ["duration", e.duration_ms.toFixed(3) + " ms"],
    ["read", e.read_ms.toFixed(3) + " ms"], ["description", e.desc || ""]]) {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = String(v);
    dl.append(dt, dd);
  }
  replaceRows("detail-steps", (e.steps || []).map((s, i) => {
    const tr = document.createElement("tr");
    cell(tr, i + 1); cell(tr, s.type); cell(tr, s.name); cell(tr, s.arg); cell(tr, s.duration_ms.toFixed(3));
    return tr;
  }));
  $("detail-errors").replaceChildren(...e.errors.map((x) => { const li = document.createElement("li"); li.textContent = x; li.className = "error"; return li; }));
  $("detail-profile-box").hidden = e.profile === undefined && !e.profile_error;
  $("detail-profile").textContent = e.profile !== undefined ? e.profile : (e.profile_error || "");
  $("detail-noprofile").hidden = !(prev && !prev.profiling);
}

async function refreshLists() {
  const [regs, sess, execs] = await Promise.all([api("registrations"), api("sessions"), api("executions?limit=30")]);
  render("registrations", regs, registrations);
  render("sessions", sess, sessions);
  render("executions", execs, executions);
}

async function tick() {
  try {
    const o = await api("overview");
    overview(o);
    if (o.gears_ready) {
      await refreshLists();
      if (selected) await detail();
    }
    $("conn").textContent = "live"; $("conn").className = "pill live";
  } catch (e) {
    if (e.message === "login required") return;
    $("conn").textContent = "disconnected: " + e.message; $("conn").className = "pill down";
  }
}

function start() {
  if (timer) return;
  tick();
  timer = setInterval(tick, 1000);
}
function stop() { clearInterval(timer); timer = null; prev = null; }

// First call decides between the login form and the dashboard.
api("overview").then(() => { showMain(); }).catch(() => {});
