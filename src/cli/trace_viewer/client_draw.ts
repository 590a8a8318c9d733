// @ts-nocheck — browser code shipped as text (see client_model.ts for why it is not type-checked).
//
// Draws the timeline on one canvas: an axis, one row per replica and standby, then the network and
// the clients. `V` is the viewer state (client_ui.ts): the model, the canvas context, the plot
// width in CSS pixels and the visible tick range [t0, t1). Every loop walks only what is visible,
// and bucket counts are folded per pixel, so a million-tick run draws as fast as a short one.

function traceLayout(model) {
  const rows = [{ kind: "axis", top: 0, height: traceRowHeights.axis }];
  let y = traceRowHeights.axis;
  for (const node of model.nodes) {
    rows.push({ kind: "node", node: node.index, top: y, height: traceRowHeights.node });
    y += traceRowHeights.node;
  }
  rows.push({ kind: "network", top: y, height: traceRowHeights.network });
  y += traceRowHeights.network;
  rows.push({ kind: "clients", top: y, height: traceRowHeights.clients });
  return { rows: rows, height: y + traceRowHeights.clients };
}

function traceX(V, tick) {
  return (tick - V.t0) * V.width / (V.t1 - V.t0);
}

function traceTickAt(V, x) {
  return V.t0 + x * (V.t1 - V.t0) / V.width;
}

function traceDraw(V) {
  const ctx = V.ctx;
  ctx.setTransform(V.dpr, 0, 0, V.dpr, 0, 0);
  ctx.clearRect(0, 0, V.width, V.height);
  ctx.font = "11px system-ui, sans-serif";
  ctx.textBaseline = "middle";
  const scale = traceChartScale(V);
  for (const row of V.rows) {
    if (row.kind === "axis") traceDrawAxis(V, row);
    else if (row.kind === "node") traceDrawNode(V, row, V.model.nodes[row.node], scale);
    else if (row.kind === "network") traceDrawNetwork(V, row);
    else traceDrawClients(V, row);
    ctx.fillStyle = "#e3e6ea";
    ctx.fillRect(0, row.top + row.height - 1, V.width, 1);
  }
  traceDrawPhases(V);
}

/** Nice axis steps: 1, 2 or 5 × 10^k ticks, about 110 px apart. */
function traceAxisStep(V) {
  const raw = (V.t1 - V.t0) * 110 / V.width;
  const power = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1))));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

function traceShortTicks(tick) {
  if (tick >= 1e6 && tick % 1e5 === 0) return (tick / 1e6) + "M";
  if (tick >= 1e3 && tick % 100 === 0) return (tick / 1e3) + "k";
  return String(tick);
}

function traceDrawAxis(V, row) {
  const ctx = V.ctx;
  const step = traceAxisStep(V);
  ctx.fillStyle = "#f7f8fa";
  ctx.fillRect(0, row.top, V.width, row.height);
  for (let t = Math.ceil(V.t0 / step) * step; t <= V.t1; t += step) {
    const x = Math.round(traceX(V, t)) + 0.5;
    ctx.fillStyle = "#c5cad3";
    ctx.fillRect(x, row.top + row.height - 7, 1, 7);
    ctx.fillStyle = "#f0f1f4";
    ctx.fillRect(x, row.top + row.height, 1, V.height - row.height);
    ctx.textAlign = "center";
    const label = traceShortTicks(t);
    const time = traceFormatTime(t);
    const half = Math.max(ctx.measureText(label).width, ctx.measureText(time).width) / 2 + 2;
    const at = Math.min(Math.max(x, half), V.width - half);
    ctx.fillStyle = "#333";
    ctx.fillText(label, at, row.top + 10);
    ctx.fillStyle = "#888";
    ctx.fillText(time, at, row.top + 23);
  }
  ctx.textAlign = "left";
}

/** Phase starts as dashed lines over every row, named in the axis. */
function traceDrawPhases(V) {
  const ctx = V.ctx;
  for (const phase of V.model.data.phases) {
    const raw = traceX(V, phase.tick);
    if (raw < 0 || raw > V.width + 1) continue;
    const x = Math.min(Math.round(raw) + 0.5, V.width - 1.5); // the run's last tick stays visible
    const color = phase.name.startsWith("FAILED") ? "#d21f1f" : "#6a329f";
    ctx.strokeStyle = color;
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(x, traceRowHeights.axis);
    ctx.lineTo(x, V.height);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = color;
    const text = phase.name + (phase.detail === "" ? "" : " " + phase.detail);
    const w = ctx.measureText(text).width;
    ctx.fillText(text, x + 4 + w > V.width ? x - 4 - w : x + 4, traceRowHeights.axis - 8);
  }
}

/**
 * Collects rectangles of one band and fills them merged: neighbours of one colour less than a
 * pixel apart become one rectangle, so ten thousand sub-pixel runs cost a few hundred fills.
 */
function traceRects(ctx, y, h) {
  let color = null;
  let x0 = 0;
  let x1 = 0;
  const flush = function () { if (color !== null) { ctx.fillStyle = color; ctx.fillRect(x0, y, Math.max(x1 - x0, 0.75), h); } };
  return {
    add: function (from, to, fill) {
      if (fill === color && from <= x1 + 1) { x1 = Math.max(x1, to); return; }
      // A sliver inside a pixel already painted: at this zoom it cannot be seen anyway.
      if (to - from < 1 && color !== null && Math.floor(to) <= Math.floor(x1)) return;
      flush();
      color = fill; x0 = from; x1 = to;
    },
    done: flush,
  };
}

/** Fills runs {start, end, value} clipped to the view; `color(value)` null skips a run. */
function traceFillRuns(V, runs, y, h, color) {
  const rects = traceRects(V.ctx, y, h);
  for (let i = traceFirstRun(runs, V.t0); i < runs.length && runs[i].start < V.t1; i++) {
    const fill = color(runs[i].value);
    if (fill !== null) rects.add(Math.max(0, traceX(V, runs[i].start)), Math.min(V.width, traceX(V, runs[i].end)), fill);
  }
  rects.done();
}

function traceDrawNode(V, row, node, scale) {
  const C = V.colors;
  const names = V.model.data;
  const top = row.top;
  traceFillRuns(V, node.roleRuns, top + traceBands.role[0], traceBands.role[1], function (role) {
    return C.role[names.roleNames[role]] || null;
  });
  const status = traceBands.status;
  traceFillRuns(V, node.statusRuns, top + status[0], status[1], function (code) { return C.status[names.statusNames[code]]; });
  traceHatchRuns(V, node.pausedRuns, top + status[0], status[1], C.paused);
  traceDrawViewLabels(V, node, top + status[0] + status[1] / 2);
  traceDrawPartitionStrip(V, node.index, top + traceBands.partition[0], traceBands.partition[1]);
  traceDrawChart(V, node, top + traceBands.chart[0], traceBands.chart[1], scale);
  traceDrawHeat(V, node.dropTotal, top + traceBands.drops[0], traceBands.drops[1], C.drops, V.max.drops);
  traceDrawHeat(V, node.storageTotal, top + traceBands.storage[0], traceBands.storage[1], C.storage, V.max.storage);
  traceDrawHeat(V, node.noticeTotal, top + traceBands.repairs[0], traceBands.repairs[1], C.repairs, V.max.repairs);
  traceDrawMarks(V, node, top);
}

/** Diagonal stripes over runs (paused replicas). */
function traceHatchRuns(V, runs, y, h, color) {
  const ctx = V.ctx;
  for (const run of runs) {
    if (run.end <= V.t0 || run.start >= V.t1) continue;
    const x0 = Math.max(0, traceX(V, run.start));
    const x1 = Math.min(V.width, traceX(V, run.end));
    ctx.save();
    ctx.beginPath();
    ctx.rect(x0, y, Math.max(x1 - x0, 1), h);
    ctx.clip();
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    for (let x = x0 - h; x < x1 + h; x += 6) { ctx.moveTo(x, y + h); ctx.lineTo(x + h, y); }
    ctx.stroke();
    ctx.restore();
  }
}

/** "v12" inside each view's stretch of the status band, where it fits. */
function traceDrawViewLabels(V, node, y) {
  const ctx = V.ctx;
  const runs = node.viewRuns;
  ctx.fillStyle = "rgba(0,0,0,0.72)";
  let lastRight = -1;
  for (let i = traceFirstRun(runs, V.t0); i < runs.length && runs[i].start < V.t1; i++) {
    const x0 = Math.max(0, traceX(V, runs[i].start));
    const x1 = Math.min(V.width, traceX(V, runs[i].end));
    if (runs[i].value < 0 || x1 - x0 < 16 || x0 < lastRight) continue;
    const text = "v" + runs[i].value;
    const w = ctx.measureText(text).width;
    if (x1 - x0 < w + 6 || x0 < lastRight) continue;
    ctx.fillText(text, x0 + 3, y);
    lastRight = x0 + w + 6;
  }
}

function traceDrawPartitionStrip(V, index, y, h) {
  const C = V.colors;
  const runs = V.model.partitions;
  const rects = traceRects(V.ctx, y, h);
  for (let i = traceFirstRun(runs, V.t0); i < runs.length && runs[i].start < V.t1; i++) {
    const side = (runs[i].side >> index) & 1;
    rects.add(Math.max(0, traceX(V, runs[i].start)), Math.min(V.width, traceX(V, runs[i].end)), side === 1 ? C.partitionB : C.partitionA);
  }
  rects.done();
}

/** Shipped in the page's script, in this order. */
export const drawFunctions = [
  traceLayout, traceX, traceTickAt, traceDraw, traceAxisStep, traceShortTicks, traceDrawAxis,
  traceDrawPhases, traceRects, traceFillRuns, traceDrawNode, traceHatchRuns, traceDrawViewLabels,
  traceDrawPartitionStrip,
];
