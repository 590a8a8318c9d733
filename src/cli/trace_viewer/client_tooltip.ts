// @ts-nocheck — browser code shipped as text (see client_model.ts for why it is not type-checked).
//
// The hover: a cursor line on the overlay canvas and a tooltip with the state of the row under the
// mouse at that tick (a replica's status, view, role, ops; the partition; the bucket's counts).

function traceDrawHover(V) {
  const ctx = V.octx;
  ctx.setTransform(V.dpr, 0, 0, V.dpr, 0, 0);
  ctx.clearRect(0, 0, V.width, V.height);
  const tooltip = document.getElementById("tooltip");
  const p = V.hover;
  const row = p === null ? null : V.rows.find(function (r) { return p.y >= r.top && p.y < r.top + r.height; });
  if (p === null || row === undefined || row === null || row.kind === "axis" || V.drag !== null) {
    tooltip.hidden = true;
    return;
  }
  ctx.fillStyle = "rgba(40,80,160,0.06)";
  ctx.fillRect(0, row.top, V.width, row.height);
  ctx.fillStyle = "rgba(20,20,20,0.55)";
  ctx.fillRect(Math.round(p.x), 0, 1, V.height);
  const tick = Math.max(0, Math.min(V.model.data.ticks, Math.floor(traceTickAt(V, p.x))));
  let html;
  if (row.kind === "node") html = traceNodeTooltip(V, V.model.nodes[row.node], tick, p.x);
  else if (row.kind === "network") html = traceNetworkTooltip(V, tick);
  else html = traceClientsTooltip(V, tick);
  tooltip.innerHTML = html;
  tooltip.hidden = false;
  const rect = V.overlay.getBoundingClientRect();
  const left = rect.left + window.scrollX + p.x;
  const top = rect.top + window.scrollY + p.y;
  const width = tooltip.offsetWidth;
  const height = tooltip.offsetHeight;
  tooltip.style.left = (p.x + 16 + width > V.width ? left - width - 12 : left + 16) + "px";
  // Below the cursor unless that runs off the window's bottom edge.
  const below = top + 14 + height <= window.scrollY + window.innerHeight;
  tooltip.style.top = Math.max(window.scrollY, below ? top + 14 : top - height - 10) + "px";
}

function traceTickHeader(V, tick) {
  const B = V.model.data.bucketTicks;
  const b = Math.floor(tick / B);
  return { bucket: b, html: "<div class=\"tt-tick\">tick " + traceFormatTicks(tick) + " · " + traceFormatTime(tick) + "</div>",
    bucketNote: "ticks " + traceFormatTicks(b * B) + "–" + traceFormatTicks((b + 1) * B) };
}

function traceCountsHtml(title, list, bucket, limit) {
  const top = traceTopCounts(list, bucket, limit);
  if (top.rows.length === 0) return "";
  let html = "<div class=\"tt-section\">" + title + "</div><table>";
  for (const row of top.rows) html += "<tr><td class=\"num\">" + row.count + "</td><td>" + traceEscape(row.name) + "</td></tr>";
  if (top.more > 0) html += "<tr><td></td><td class=\"muted\">… " + top.more + " more</td></tr>";
  return html + "</table>";
}

function traceNodeTooltip(V, node, tick, x) {
  const data = V.model.data;
  const c = node.columns;
  const i = traceFloorIndex(c.tick, tick);
  const head = traceTickHeader(V, tick);
  let html = "<div class=\"tt-title\">" + (node.standby ? "standby " : "replica ") + node.index + "</div>" + head.html;
  if (i < 0) return html + "<div>not started</div>";
  const status = data.statusNames[c.status[i]];
  const swatch = "<span class=\"swatch\" style=\"background:" + V.colors.status[status] + "\"></span>";
  html += "<table>";
  html += "<tr><th>status</th><td>" + swatch + status + (c.paused[i] ? " <b>(paused)</b>" : "") + "</td></tr>";
  if (status !== "down") {
    html += "<tr><th>role</th><td>" + data.roleNames[c.role[i]] + "</td></tr>";
    html += "<tr><th>view</th><td>" + c.view[i] + "</td></tr>";
    html += "<tr><th>op</th><td>" + c.op[i] + "</td></tr>";
    html += "<tr><th>commit</th><td>" + c.commitMin[i] + " / " + c.commitMax[i] + " <span class=\"muted\">min / max</span></td></tr>";
    const writing = traceInCheckpoint(node, tick) ? " <span class=\"muted\">(writing the next)</span>" : "";
    html += "<tr><th>checkpoint</th><td>" + c.checkpoint[i] + writing + "</td></tr>";
  } else {
    html += "<tr><th>last known</th><td>view " + c.view[i] + ", commit " + c.commitMin[i] + "</td></tr>";
  }
  html += "<tr><th>since</th><td>tick " + traceFormatTicks(c.tick[i]) + "</td></tr>";
  const partition = tracePartitionAt(V.model, tick);
  if (partition !== null) {
    const side = (partition.side >> node.index) & 1;
    html += "<tr><th>partition</th><td>side " + "AB"[side] + " {" + traceSideNodes(V.model, partition.side, side) + "} cut from {" +
      traceSideNodes(V.model, partition.side, 1 - side) + "}" + (partition.sending === side ? ", can still send" : "") + "</td></tr>";
  }
  html += "<tr><th>clock</th><td>" + traceEscape(node.clock) + "</td></tr></table>";
  html += traceNearMarks(V, node, x);
  let counts = traceCountsHtml("dropped / ignored (" + head.bucketNote + ")", node.drops, head.bucket, 8);
  counts += traceCountsHtml("storage faults injected", node.storage, head.bucket, 4);
  counts += traceCountsHtml("repairs and notices", node.notices, head.bucket, 6);
  return html + (counts === "" ? "<div class=\"muted tt-section\">nothing dropped or repaired in " + head.bucketNote + "</div>" : counts);
}

function traceInCheckpoint(node, tick) {
  for (const run of node.checkpointRuns) if (run.start <= tick && tick < run.end) return true;
  return false;
}

/** Marks within 6 px of the cursor, by name and tick. */
function traceNearMarks(V, node, x) {
  const m = node.marks;
  const names = [];
  const from = traceTickAt(V, x - 6);
  const to = traceTickAt(V, x + 6);
  for (let i = Math.max(0, traceFloorIndex(m.tick, from)); i < m.tick.length && m.tick[i] <= to; i++) {
    if (m.tick[i] < from) continue;
    if (names.length < 8) names.push(V.model.data.markNames[m.kind[i]].replace(/_/g, " ") + " @" + traceFormatTicks(m.tick[i]));
  }
  return names.length === 0 ? "" : "<div class=\"tt-section\">events</div><div>" + names.map(traceEscape).join("<br>") + "</div>";
}

function traceNetworkTooltip(V, tick) {
  const head = traceTickHeader(V, tick);
  let html = "<div class=\"tt-title\">network</div>" + head.html;
  const partition = tracePartitionAt(V.model, tick);
  if (partition === null) html += "<div>no partition</div>";
  else {
    html += "<div>partitioned since tick " + traceFormatTicks(partition.start) + " until " + traceFormatTicks(partition.end) + ":<br>{" +
      traceSideNodes(V.model, partition.side, 0) + "} | {" + traceSideNodes(V.model, partition.side, 1) + "}" +
      (partition.sending < 0 ? " (symmetric)" : " (asymmetric: side " + "AB"[partition.sending] + " can still send)") + "</div>";
  }
  const net = V.model.cluster.network;
  const names = { droppedLoss: "lost", droppedFilter: "partition filter", droppedCapacity: "link full",
    droppedDisabled: "node down or paused", replayed: "replayed", delivered: "delivered" };
  const list = Object.keys(names).map(function (key) { return { name: names[key], counts: net[key] || [] }; });
  return html + (traceCountsHtml("packets (" + head.bucketNote + ")", list, head.bucket, 6) ||
    "<div class=\"muted tt-section\">no packets in " + head.bucketNote + "</div>");
}

function traceClientsTooltip(V, tick) {
  const head = traceTickHeader(V, tick);
  const client = V.model.cluster.client;
  let html = "<div class=\"tt-title\">clients</div>" + head.html + "<table>" +
    "<tr><th>requests sent</th><td>" + ((client.requests || [])[head.bucket] || 0) + "</td></tr>" +
    "<tr><th>replies</th><td>" + ((client.replies || [])[head.bucket] || 0) + "</td></tr></table>" +
    "<div class=\"muted\">in " + head.bucketNote + "</div>";
  const evicted = V.model.clientMarks.filter(function (mark) { return mark.tick <= tick; });
  if (evicted.length > 0) {
    html += "<div class=\"tt-section\">evicted so far</div><div>" + evicted.slice(-6).map(function (mark) {
      return "client " + mark.client + " @" + traceFormatTicks(mark.tick) + " (" + traceEscape(mark.kind) + ")";
    }).join("<br>") + "</div>";
  }
  return html;
}

/** Shipped in the page's script, in this order. */
export const tooltipFunctions = [
  traceDrawHover, traceTickHeader, traceCountsHtml, traceNodeTooltip, traceInCheckpoint, traceNearMarks,
  traceNetworkTooltip, traceClientsTooltip,
];
