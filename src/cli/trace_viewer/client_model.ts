// @ts-nocheck — browser code, shipped as source text into the trace page (page.ts joins these
// functions' toString() into one inline <script>). The project compiles without the DOM library,
// so these files are syntax-checked by tsc but not type-checked; test/cli/vopr_trace.test.ts
// runs them in headless Chromium and fails on any page error. Plain ES2020, no imports, no
// template literals (the page is assembled from strings).
//
// This part decodes the embedded timeline (src/sim/runner/timeline_data.ts) into runs and dense
// arrays, and answers "what was replica N doing at tick T".

/** Undoes timeline_data.ts's delta coding. */
function traceUndelta(values) {
  const out = new Array(values.length);
  let sum = 0;
  for (let i = 0; i < values.length; i++) { sum += values[i]; out[i] = sum; }
  return out;
}

/** [gap, count, …] → dense counts (timeline_buckets.ts encodeCounts). */
function traceDecodeCounts(encoded) {
  const counts = [];
  let index = -1;
  for (let at = 0; at + 1 < encoded.length; at += 2) {
    index += encoded[at];
    while (counts.length < index) counts.push(0);
    counts.push(encoded[at + 1]);
  }
  return counts;
}

/** Consecutive equal values of one column → runs {start, end, value}. */
function traceRuns(ticks, values, end) {
  const runs = [];
  for (let i = 0; i < ticks.length; i++) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last.value === values[i]) continue;
    if (last !== undefined) last.end = ticks[i];
    runs.push({ start: ticks[i], end: end, value: values[i] });
  }
  return runs;
}

/** Checkpoint start…done intervals from the marks (a crash or a new start abandons one). */
function traceCheckpointRuns(marks, names, end) {
  const runs = [];
  let open = -1;
  for (let i = 0; i < marks.tick.length; i++) {
    const name = names[marks.kind[i]];
    if (name === "checkpoint_start") {
      if (open >= 0) runs.push({ start: open, end: marks.tick[i], done: false });
      open = marks.tick[i];
    } else if ((name === "checkpoint_done" || name === "crash") && open >= 0) {
      runs.push({ start: open, end: marks.tick[i], done: name === "checkpoint_done" });
      open = -1;
    }
  }
  if (open >= 0) runs.push({ start: open, end: end, done: false });
  return runs;
}

/** timeline_data.ts decodeStates: records of tick delta, changed-field mask, changed values. */
function traceDecodeStates(encoded) {
  const fields = ["status", "role", "paused", "view", "op", "commitMin", "commitMax", "checkpoint"];
  const columns = { tick: [] };
  for (const field of fields) columns[field] = [];
  let at = 0;
  while (at < encoded.length) {
    const first = columns.tick.length === 0;
    columns.tick.push((first ? 0 : columns.tick[columns.tick.length - 1]) + encoded[at++]);
    const mask = encoded[at++];
    for (let k = 0; k < fields.length; k++) {
      const values = columns[fields[k]];
      const previous = first ? 0 : values[values.length - 1];
      if ((mask & (1 << k)) === 0) values.push(previous);
      else values.push(k < 3 ? encoded[at++] : previous + encoded[at++]);
    }
  }
  return columns;
}

function traceDecodeNode(node, data) {
  const columns = traceDecodeStates(node.states);
  const s = columns;
  const tick = columns.tick;
  const marks = { tick: traceUndelta(node.marks.tick), kind: node.marks.kind };
  const end = data.ticks;
  return {
    index: node.index, standby: node.standby, clock: node.clock, columns: columns, marks: marks,
    statusRuns: traceRuns(tick, s.status, end), roleRuns: traceRuns(tick, s.role, end),
    pausedRuns: traceRuns(tick, s.paused, end).filter(function (run) { return run.value === 1; }),
    // While down the view column keeps the last known view: no label there (−1).
    viewRuns: traceRuns(tick, columns.view.map(function (view, i) { return s.status[i] === 4 ? -1 : view; }), end),
    checkpointRuns: traceCheckpointRuns(marks, data.markNames, end),
    drops: [], dropTotal: [], notices: [], noticeTotal: [], storage: [], storageTotal: [],
  };
}

/** Adds `counts` into `total` element-wise. */
function traceAddInto(total, counts) {
  for (let i = 0; i < counts.length; i++) total[i] = (total[i] || 0) + counts[i];
}

/** The whole model: nodes with their runs, bucket series by group, partitions as intervals. */
function traceModel(data) {
  const nodes = data.nodes.map(function (node) { return traceDecodeNode(node, data); });
  const cluster = { network: {}, client: {} };
  for (const series of data.series) {
    const counts = traceDecodeCounts(series.counts);
    const node = series.node >= 0 ? nodes[series.node] : null;
    if (series.group === "drop" && node) {
      node.drops.push({ name: data.reasons[Number(series.name)], counts: counts });
      traceAddInto(node.dropTotal, counts);
    } else if (series.group === "notice" && node) {
      node.notices.push({ name: series.name, counts: counts });
      traceAddInto(node.noticeTotal, counts);
    } else if (series.group === "storage" && node) {
      node.storage.push({ name: series.name, counts: counts });
      traceAddInto(node.storageTotal, counts);
    } else if (cluster[series.group]) {
      cluster[series.group][series.name] = counts;
    }
  }
  const p = data.partitions;
  const partitions = traceUndelta(p.start).map(function (start, i) {
    return { start: start, end: start + p.length[i], side: p.side[i], sending: p.sending[i] };
  });
  const clientMarks = data.clientMarks.tick.map(function (tick, i) {
    return { tick: tick, client: data.clientMarks.client[i], kind: data.clientMarks.kind[i] };
  });
  return { data: data, nodes: nodes, cluster: cluster, partitions: partitions, clientMarks: clientMarks };
}

/** Index of the last entry of ascending `ticks` at or before `tick` (−1 if none). */
function traceFloorIndex(ticks, tick) {
  let low = 0;
  let high = ticks.length - 1;
  let found = -1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (ticks[mid] <= tick) { found = mid; low = mid + 1; } else high = mid - 1;
  }
  return found;
}

/** Index of the first run ending after `tick`. */
function traceFirstRun(runs, tick) {
  let low = 0;
  let high = runs.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (runs[mid].end <= tick) low = mid + 1; else high = mid;
  }
  return low;
}

function tracePartitionAt(model, tick) {
  const runs = model.partitions;
  const i = traceFirstRun(runs, tick);
  return i < runs.length && runs[i].start <= tick ? runs[i] : null;
}

/** The nodes on one side of a partition mask, as "0,2,3". */
function traceSideNodes(model, mask, side) {
  const nodes = [];
  for (let n = 0; n < model.nodes.length; n++) if (((mask >> n) & 1) === side) nodes.push(n);
  return nodes.join(",");
}

/** Named counts in bucket `b`, largest first, at most `limit`. */
function traceTopCounts(list, b, limit) {
  const rows = [];
  for (const entry of list) if ((entry.counts[b] || 0) > 0) rows.push({ name: entry.name, count: entry.counts[b] });
  rows.sort(function (x, y) { return y.count - x.count || (x.name < y.name ? -1 : 1); });
  return { rows: rows.slice(0, limit), more: Math.max(0, rows.length - limit) };
}

function traceFormatTicks(ticks) {
  return Math.round(ticks).toLocaleString("en-US");
}

/** Simulated time of a tick (10 ms each). */
function traceFormatTime(ticks) {
  const totalMs = Math.round(ticks * 10);
  const hours = Math.floor(totalMs / 3600000);
  const minutes = Math.floor(totalMs / 60000) % 60;
  const seconds = (totalMs % 60000) / 1000;
  const sec = seconds.toFixed(seconds < 10 && hours + minutes === 0 ? 2 : 1);
  if (hours > 0) return hours + "h " + String(minutes).padStart(2, "0") + "m " + sec.padStart(4, "0") + "s";
  if (minutes > 0) return minutes + "m " + sec.padStart(4, "0") + "s";
  return sec + "s";
}

/** Shipped in the page's script, in this order. */
export const modelFunctions = [
  traceUndelta, traceDecodeCounts, traceDecodeStates, traceRuns, traceCheckpointRuns, traceDecodeNode, traceAddInto, traceModel,
  traceFloorIndex, traceFirstRun, tracePartitionAt, traceSideNodes, traceTopCounts, traceFormatTicks,
  traceFormatTime,
];
