// @ts-nocheck — browser code shipped as text (see client_model.ts for why it is not type-checked).
//
// The parts of a row drawn from numbers: the op/commit chart, heat strips of bucket counts, the
// point marks, and the network and client rows.

/** One y scale for every replica's chart: the ops visible in the view, so rows compare. */
function traceChartScale(V) {
  let low = Infinity;
  let high = -Infinity;
  for (const node of V.model.nodes) {
    const c = node.columns;
    const first = Math.max(0, traceFloorIndex(c.tick, V.t0));
    for (let i = first; i < c.tick.length && c.tick[i] < V.t1; i++) {
      if (c.status[i] === 4) continue;
      low = Math.min(low, c.checkpoint[i], c.commitMin[i]);
      high = Math.max(high, c.op[i], c.commitMax[i]);
    }
  }
  if (low === Infinity) return { low: 0, high: 1 };
  return { low: low, high: Math.max(high, low + 1) };
}

/** One column as a step line, broken while the replica is down. */
function traceStepLine(V, node, column, y, h, scale, color, width) {
  const ctx = V.ctx;
  const c = node.columns;
  const values = c[column];
  const yOf = function (v) { return y + h - (v - scale.low) * h / (scale.high - scale.low); };
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.beginPath();
  let drawing = false;
  const first = Math.max(0, traceFloorIndex(c.tick, V.t0));
  for (let i = first; i < c.tick.length && c.tick[i] < V.t1; i++) {
    const x0 = Math.max(0, traceX(V, c.tick[i]));
    const x1 = Math.min(V.width, traceX(V, i + 1 < c.tick.length ? c.tick[i + 1] : V.model.data.ticks));
    if (c.status[i] === 4) { drawing = false; continue; }
    const yy = yOf(values[i]);
    if (drawing) ctx.lineTo(x0, yy); else ctx.moveTo(x0, yy);
    ctx.lineTo(Math.max(x1, x0 + 0.5), yy);
    drawing = true;
  }
  ctx.stroke();
  ctx.lineWidth = 1;
}

function traceDrawChart(V, node, y, h, scale) {
  const C = V.colors;
  const ctx = V.ctx;
  ctx.fillStyle = "#fafbfc";
  ctx.fillRect(0, y, V.width, h);
  for (const run of node.checkpointRuns) {
    if (run.end <= V.t0 || run.start >= V.t1) continue;
    const x0 = Math.max(0, traceX(V, run.start));
    const x1 = Math.min(V.width, traceX(V, run.end));
    ctx.fillStyle = run.done ? C.checkpointing : C.checkpointAbandoned;
    ctx.fillRect(x0, y, Math.max(x1 - x0, 1), h);
  }
  traceStepLine(V, node, "op", y + 1, h - 2, scale, C.op, 1);
  traceStepLine(V, node, "commitMax", y + 1, h - 2, scale, C.commitMax, 1.5);
  traceStepLine(V, node, "commitMin", y + 1, h - 2, scale, C.commitMin, 1.5);
  traceStepLine(V, node, "checkpoint", y + 1, h - 2, scale, C.checkpoint, 1);
  ctx.fillStyle = "#999";
  ctx.font = "9px system-ui, sans-serif";
  ctx.fillText(String(scale.high), V.width - ctx.measureText(String(scale.high)).width - 2, y + 5);
  ctx.font = "11px system-ui, sans-serif";
}

/** Bucket counts folded onto pixel columns: a pixel holds the largest bucket under it. */
function traceBucketPixels(V, counts) {
  const B = V.model.data.bucketTicks;
  const pixels = new Float64Array(Math.ceil(V.width) + 1);
  const first = Math.max(0, Math.floor(V.t0 / B));
  for (let b = first; b < counts.length && b * B < V.t1; b++) {
    const count = counts[b];
    if (!count) continue;
    const x0 = Math.max(0, traceX(V, b * B));
    const x1 = Math.min(V.width, traceX(V, (b + 1) * B));
    const p1 = Math.max(Math.floor(x0), Math.ceil(x1) - 1);
    for (let p = Math.floor(x0); p <= p1 && p < pixels.length; p++) pixels[p] = Math.max(pixels[p], count);
  }
  return pixels;
}

/**
 * A strip whose opacity grows with log(count) up to the run's largest bucket, in 8 shades: each
 * shade is one path of merged pixel runs, filled once.
 */
function traceDrawHeat(V, counts, y, h, color, max) {
  if (counts.length === 0) return;
  const pixels = traceBucketPixels(V, counts);
  const ctx = V.ctx;
  const scale = Math.log(1 + Math.max(max, 1));
  const levels = 8;
  const shade = new Uint8Array(pixels.length);
  for (let p = 0; p < pixels.length; p++) {
    if (pixels[p] > 0) shade[p] = 1 + Math.min(levels - 1, Math.floor(levels * Math.log(1 + pixels[p]) / scale));
  }
  ctx.fillStyle = color;
  for (let level = 1; level <= levels; level++) {
    ctx.beginPath();
    let any = false;
    for (let p = 0; p < shade.length; p++) {
      if (shade[p] !== level) continue;
      let q = p;
      while (q + 1 < shade.length && shade[q + 1] === level) q++;
      ctx.rect(p, y, q - p + 1, h);
      any = true;
      p = q;
    }
    if (!any) continue;
    ctx.globalAlpha = 0.15 + 0.85 * level / levels;
    ctx.fill();
  }
  ctx.globalAlpha = 1;
}

/** Glyphs: crash ✕, restart ▲, reformat ◆, open |, clock jump ◇ with a line, notices •. */
function traceDrawMarks(V, node, top) {
  const ctx = V.ctx;
  const C = V.colors;
  const names = V.model.data.markNames;
  const m = node.marks;
  const mid = top + traceBands.status[0] + traceBands.status[1] / 2;
  for (let i = Math.max(0, traceFloorIndex(m.tick, V.t0)); i < m.tick.length && m.tick[i] < V.t1; i++) {
    const x = traceX(V, m.tick[i]);
    if (x < -6) continue;
    const name = names[m.kind[i]];
    ctx.fillStyle = C.marks[name] || C.marks.other;
    ctx.strokeStyle = ctx.fillStyle;
    ctx.beginPath();
    if (name === "crash") {
      ctx.lineWidth = 2.5;
      ctx.moveTo(x - 5, mid - 5); ctx.lineTo(x + 5, mid + 5); ctx.moveTo(x + 5, mid - 5); ctx.lineTo(x - 5, mid + 5);
      ctx.stroke();
      ctx.lineWidth = 1;
    } else if (name === "restart") {
      ctx.moveTo(x, mid - 6); ctx.lineTo(x + 6, mid + 5); ctx.lineTo(x - 6, mid + 5); ctx.fill();
    } else if (name === "reformat") {
      ctx.moveTo(x, mid - 7); ctx.lineTo(x + 6, mid); ctx.lineTo(x, mid + 7); ctx.lineTo(x - 6, mid); ctx.fill();
    } else if (name === "open") {
      ctx.fillRect(x - 1, top + traceBands.status[0] + traceBands.status[1] - 6, 2, 6);
    } else if (name === "clock_jump" || name === "clock_ideal") {
      ctx.fillRect(x - 0.5, top + traceBands.role[0], 1, traceBands.repairs[0] - traceBands.role[0]);
      ctx.moveTo(x, top + 1); ctx.lineTo(x + 4, top + 5); ctx.lineTo(x, top + 9); ctx.lineTo(x - 4, top + 5); ctx.fill();
    } else if (name === "sync_start" || name === "sync_done" || name === "sync_cancel") {
      ctx.fillRect(x - 1, top + traceBands.role[0] - 2, 2, traceBands.role[1] + 4);
    } else if (name !== "pause" && name !== "unpause" && name !== "checkpoint_start" && name !== "checkpoint_done") {
      ctx.arc(x, top + traceBands.chart[0] + 3, 2.5, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
}

function traceDrawNetwork(V, row) {
  const C = V.colors;
  const ctx = V.ctx;
  const runs = V.model.partitions;
  const y = row.top + 4;
  const rects = traceRects(ctx, y, 16);
  const labels = [];
  for (let i = traceFirstRun(runs, V.t0); i < runs.length && runs[i].start < V.t1; i++) {
    const x0 = Math.max(0, traceX(V, runs[i].start));
    const x1 = Math.min(V.width, traceX(V, runs[i].end));
    rects.add(x0, x1, C.partition);
    if (x1 - x0 > 40) labels.push({ x0: x0, x1: x1, run: runs[i] });
  }
  rects.done();
  ctx.fillStyle = "#fff";
  for (const label of labels) {
    const run = label.run;
    const arrow = run.sending === 0 ? " → " : run.sending === 1 ? " ← " : " | ";
    const text = traceSideNodes(V.model, run.side, 0) + arrow + traceSideNodes(V.model, run.side, 1);
    if (label.x1 - label.x0 > ctx.measureText(text).width + 8) ctx.fillText(text, label.x0 + 4, y + 8);
  }
  const net = V.model.cluster.network;
  traceDrawBars(V, [net.droppedLoss, net.droppedFilter, net.droppedCapacity, net.droppedDisabled],
    [C.net.loss, C.net.filter, C.net.capacity, C.net.disabled], row.top + 24, 36, 1);
}

/** Stacked bars of several bucket series, scaled to the tallest visible stack; dir −1 hangs down. */
function traceDrawBars(V, seriesList, colors, y, h, dir) {
  const stacks = seriesList.map(function (counts) { return traceBucketPixels(V, counts || []); });
  let max = 1;
  for (let p = 0; p < stacks[0].length; p++) {
    let sum = 0;
    for (const s of stacks) sum += s[p];
    max = Math.max(max, sum);
  }
  const ctx = V.ctx;
  const base = new Float64Array(stacks[0].length);
  for (let k = 0; k < stacks.length; k++) {
    ctx.fillStyle = colors[k];
    const s = stacks[k];
    for (let p = 0; p < s.length; p++) {
      if (s[p] === 0) continue;
      const bar = Math.max(1, s[p] * h / max);
      if (dir > 0) ctx.fillRect(p, y + h - base[p] - bar, 1, bar); else ctx.fillRect(p, y + base[p], 1, bar);
      base[p] += bar;
    }
  }
  return max;
}

function traceDrawClients(V, row) {
  const C = V.colors;
  const client = V.model.cluster.client;
  const mid = row.top + row.height / 2;
  V.ctx.fillStyle = "#d0d4da";
  V.ctx.fillRect(0, mid, V.width, 1);
  traceDrawBars(V, [client.requests], [C.requests], row.top + 4, mid - row.top - 5, 1);
  traceDrawBars(V, [client.replies], [C.replies], mid + 2, row.top + row.height - mid - 6, -1);
  const ctx = V.ctx;
  ctx.strokeStyle = C.marks.crash;
  ctx.lineWidth = 2;
  for (const mark of V.model.clientMarks) {
    const x = traceX(V, mark.tick);
    if (x < -5 || x > V.width + 5) continue;
    ctx.beginPath();
    ctx.moveTo(x - 4, row.top + 4); ctx.lineTo(x + 4, row.top + 12); ctx.moveTo(x + 4, row.top + 4); ctx.lineTo(x - 4, row.top + 12);
    ctx.stroke();
  }
  ctx.lineWidth = 1;
}

/** Shipped in the page's script, in this order. */
export const rowFunctions = [
  traceChartScale, traceStepLine, traceDrawChart, traceBucketPixels, traceDrawHeat, traceDrawMarks,
  traceDrawNetwork, traceDrawBars, traceDrawClients,
];
