// @ts-nocheck — browser code shipped as text (see client_model.ts for why it is not type-checked).
//
// The viewer's start-up, row labels, zoom and pan (wheel, drag, double-click, buttons, keys) and
// the hover tooltip. `window.scarabTrace` exposes the rows and the view for tests.

function traceMain() {
  const payload = JSON.parse(document.getElementById("trace-data").textContent);
  const model = traceModel(payload.timeline);
  const layout = traceLayout(model);
  const canvas = document.getElementById("canvas");
  const overlay = document.getElementById("overlay");
  const V = {
    model: model, colors: payload.colors, rows: layout.rows, height: layout.height, t0: 0, t1: Math.max(model.data.ticks, 1),
    width: 1, dpr: window.devicePixelRatio || 1, canvas: canvas, ctx: canvas.getContext("2d"), overlay: overlay,
    octx: overlay.getContext("2d"), pending: false, hover: null, drag: null, draws: 0, max: traceMaxima(model),
  };
  traceBuildLabels(V);
  traceResize(V);
  traceBindEvents(V);
  window.addEventListener("resize", function () { traceResize(V); });
  window.scarabTrace = {
    rows: V.rows.map(function (row) { return { kind: row.kind, node: row.node, top: row.top, height: row.height }; }),
    view: function () { return [V.t0, V.t1]; },
    setView: function (t0, t1) { traceSetView(V, t0, t1); traceRedraw(V); },
    draws: function () { return V.draws; },
  };
}

/** The run's largest bucket per heat strip, so a strip's shade means the same at every zoom. */
function traceMaxima(model) {
  const max = { drops: 1, storage: 1, repairs: 1 };
  for (const node of model.nodes) {
    for (const v of node.dropTotal) max.drops = Math.max(max.drops, v || 0);
    for (const v of node.storageTotal) max.storage = Math.max(max.storage, v || 0);
    for (const v of node.noticeTotal) max.repairs = Math.max(max.repairs, v || 0);
  }
  return max;
}

function traceEscape(text) {
  return String(text).replace(/[&<>"']/g, function (c) {
    return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }[c];
  });
}

function traceBuildLabels(V) {
  const labels = document.getElementById("labels");
  labels.style.height = V.height + "px";
  for (const row of V.rows) {
    const div = document.createElement("div");
    div.className = "row-label row-" + row.kind;
    div.style.top = row.top + "px";
    div.style.height = row.height + "px";
    if (row.kind === "axis") div.innerHTML = "<span class=\"muted\">tick<br>simulated time</span>";
    else if (row.kind === "network") div.innerHTML = "<b>network</b><span class=\"muted\">partitions<br>dropped packets</span>";
    else if (row.kind === "clients") {
      div.innerHTML = "<b>clients <span class=\"muted\" style=\"display:inline\">(" + V.model.data.clientCount + ")</span></b>" +
        "<span class=\"muted\">requests ▲<br>replies ▼</span>";
    } else {
      const node = V.model.nodes[row.node];
      div.dataset.node = String(node.index);
      const band = function (name, text) {
        return "<span class=\"band\" style=\"top:" + (traceBands[name][0] + traceBands[name][1] / 2 - 5) + "px\">" + text + "</span>";
      };
      div.innerHTML = "<b>" + (node.standby ? "standby " : "replica ") + node.index + "</b>" +
        "<span class=\"muted\" title=\"clock\">clock " + traceEscape(node.clock) + "</span>" +
        band("status", "status") + band("chart", "ops") + band("drops", "drops") + band("repairs", "faults");
    }
    labels.appendChild(div);
  }
}

function traceResize(V) {
  const plot = document.getElementById("plot");
  V.width = Math.max(200, plot.clientWidth);
  V.dpr = window.devicePixelRatio || 1;
  for (const canvas of [V.canvas, V.overlay]) {
    canvas.width = Math.round(V.width * V.dpr);
    canvas.height = Math.round(V.height * V.dpr);
    canvas.style.width = V.width + "px";
    canvas.style.height = V.height + "px";
  }
  plot.style.height = V.height + "px";
  traceRequestDraw(V);
}

function traceRequestDraw(V) {
  if (V.pending) return;
  V.pending = true;
  window.requestAnimationFrame(function () {
    V.pending = false;
    traceRedraw(V);
  });
}

function traceRedraw(V) {
  V.draws += 1;
  traceDraw(V);
  traceDrawHover(V);
  traceShowRange(V);
}

/** Clamps [t0, t1) to the run, at least 20 ticks wide. */
function traceSetView(V, t0, t1) {
  const total = Math.max(V.model.data.ticks, 1);
  let span = Math.min(Math.max(t1 - t0, Math.min(20, total)), total);
  let start = Math.min(Math.max(t0, 0), total - span);
  V.t0 = start;
  V.t1 = start + span;
}

function traceZoom(V, factor, centerTick) {
  const t = centerTick === undefined ? (V.t0 + V.t1) / 2 : centerTick;
  traceSetView(V, t - (t - V.t0) * factor, t + (V.t1 - t) * factor);
  traceRequestDraw(V);
}

function tracePan(V, fraction) {
  const span = V.t1 - V.t0;
  traceSetView(V, V.t0 + span * fraction, V.t1 + span * fraction);
  traceRequestDraw(V);
}

function traceShowRange(V) {
  const range = document.getElementById("range");
  range.textContent = "ticks " + traceFormatTicks(V.t0) + " – " + traceFormatTicks(V.t1) + "  (" +
    traceFormatTime(V.t1 - V.t0) + " of " + traceFormatTime(V.model.data.ticks) + ")";
}

function traceBindEvents(V) {
  const plot = document.getElementById("plot");
  const local = function (event) {
    const rect = V.overlay.getBoundingClientRect();
    return { x: event.clientX - rect.left, y: event.clientY - rect.top };
  };
  plot.addEventListener("wheel", function (event) {
    event.preventDefault();
    const p = local(event);
    if (event.shiftKey || Math.abs(event.deltaX) > Math.abs(event.deltaY)) {
      tracePan(V, (event.deltaX || event.deltaY) / V.width);
    } else {
      traceZoom(V, Math.exp(Math.max(-3, Math.min(3, event.deltaY * 0.002))), traceTickAt(V, p.x));
    }
  }, { passive: false });
  plot.addEventListener("mousedown", function (event) {
    V.drag = { x: local(event).x, t0: V.t0, t1: V.t1 };
    plot.classList.add("dragging");
  });
  window.addEventListener("mouseup", function () { V.drag = null; plot.classList.remove("dragging"); });
  plot.addEventListener("mousemove", function (event) {
    const p = local(event);
    if (V.drag !== null) {
      const shift = (V.drag.x - p.x) * (V.drag.t1 - V.drag.t0) / V.width;
      traceSetView(V, V.drag.t0 + shift, V.drag.t1 + shift);
      traceRequestDraw(V);
    }
    V.hover = p;
    traceDrawHover(V);
  });
  plot.addEventListener("mouseleave", function () { V.hover = null; traceDrawHover(V); });
  plot.addEventListener("dblclick", function (event) { traceZoom(V, event.shiftKey ? 2 : 0.5, traceTickAt(V, local(event).x)); });
  const buttons = { "zoom-in": function () { traceZoom(V, 0.5); }, "zoom-out": function () { traceZoom(V, 2); },
    "zoom-fit": function () { traceSetView(V, 0, V.model.data.ticks); traceRequestDraw(V); },
    "pan-left": function () { tracePan(V, -0.4); }, "pan-right": function () { tracePan(V, 0.4); } };
  for (const id of Object.keys(buttons)) document.getElementById(id).addEventListener("click", buttons[id]);
  window.addEventListener("keydown", function (event) {
    const keys = { "+": "zoom-in", "=": "zoom-in", "-": "zoom-out", "0": "zoom-fit", "ArrowLeft": "pan-left", "ArrowRight": "pan-right" };
    const key = keys[event.key];
    if (key !== undefined && !event.ctrlKey && !event.metaKey) buttons[key]();
  });
  const copy = document.getElementById("copy-replay");
  if (copy !== null) {
    copy.addEventListener("click", function () {
      if (navigator.clipboard) navigator.clipboard.writeText(document.getElementById("replay").textContent).catch(function () {});
    });
  }
}

/** Shipped in the page's script, in this order. */
export const uiFunctions = [
  traceMain, traceMaxima, traceEscape, traceBuildLabels, traceResize, traceRequestDraw, traceRedraw,
  traceSetView, traceZoom, tracePan, traceShowRange, traceBindEvents,
];
