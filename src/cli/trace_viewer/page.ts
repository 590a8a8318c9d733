// `scarab vopr SEED --trace out.html`: one self-contained HTML page (inline style, script and
// data; no URL of any kind, it opens offline) showing a recorded run (src/sim/runner/timeline.ts)
// as a zoomable timeline. The header is rendered here; the timeline is drawn in the browser by the
// client_*.ts functions, whose source text is inlined.
import type { FaultCounts, RepairCounts } from "../../sim/runner/fault_counts.js";
import { faultCountKeys, repairCountKeys } from "../../sim/runner/fault_counts.js";
import type { TimelineData } from "../../sim/runner/timeline_data.js";
import { drawFunctions } from "./client_draw.js";
import { rowFunctions } from "./client_draw_rows.js";
import { modelFunctions } from "./client_model.js";
import { tooltipFunctions } from "./client_tooltip.js";
import { uiFunctions } from "./client_ui.js";
import { bands, colors, rowHeights, stylesheet } from "./style.js";

/** What the run's result adds to the recorded timeline. */
export interface TraceRun {
  readonly replay: string;
  readonly exitCode: number;
  readonly outcome: string;
  readonly details: string;
  readonly faults: FaultCounts;
  readonly repairs: RepairCounts;
  readonly requestsReplied: number;
}

export function renderTraceHtml(timeline: TimelineData, run: TraceRun): string {
  const passed = run.exitCode === 0;
  const title = `VOPR seed ${timeline.seed} — ${passed ? "passed" : `failed (exit ${run.exitCode})`}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${stylesheet}</style>
</head>
<body>
${header(timeline, run)}
${legend()}
<div id="toolbar">
  <button id="zoom-in" title="zoom in (+)">+</button><button id="zoom-out" title="zoom out (−)">−</button>
  <button id="pan-left" title="pan left (←)">◀</button><button id="pan-right" title="pan right (→)">▶</button>
  <button id="zoom-fit" title="whole run (0)">whole run</button>
  <span id="range"></span>
  <span class="hint">wheel: zoom · drag: pan · double-click: zoom in (shift: out) · keys + − 0 ← →</span>
</div>
<div id="chart"><div id="labels"></div><div id="plot"><canvas id="canvas"></canvas><canvas id="overlay"></canvas></div></div>
<div id="tooltip" hidden></div>
<script type="application/json" id="trace-data">${jsonForScript({ timeline: withEnding(timeline, run), colors })}</script>
<script>
"use strict";
const traceBands = ${JSON.stringify(bands)};
const traceRowHeights = ${JSON.stringify(rowHeights)};
${clientScript()}
traceMain();
</script>
</body>
</html>
`;
}

/** A failed run's last tick, marked like a phase so the eye finds where it ended. */
function withEnding(timeline: TimelineData, run: TraceRun): TimelineData {
  if (run.exitCode === 0) return timeline;
  return { ...timeline, phases: [...timeline.phases, { tick: timeline.ticks, name: `FAILED (exit ${run.exitCode})`, detail: "" }] };
}

function clientScript(): string {
  return [...modelFunctions, ...drawFunctions, ...rowFunctions, ...tooltipFunctions, ...uiFunctions]
    .map((fn) => fn.toString()).join("\n\n");
}

/** JSON that cannot close its <script> element early. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" })[c]!);
}

function header(timeline: TimelineData, run: TraceRun): string {
  const passed = run.exitCode === 0;
  const badge = passed ? `<span class="badge passed">PASSED</span>` : `<span class="badge failed">FAILED · exit ${run.exitCode}</span>`;

  const mode = /mode=(\S+)/.exec(timeline.swarm.join(" "))?.[1] ?? "?";
  const chips = (keys: readonly string[], counts: Readonly<Record<string, number>>, kind: string): string =>
    keys.filter((key) => counts[key]! > 0).map((key) => `<span class="chip ${kind}">${escapeHtml(key)} ${counts[key]}</span>`).join("");
  const faults = chips(faultCountKeys, run.faults as unknown as Record<string, number>, "fault");
  const repairs = chips(repairCountKeys, run.repairs as unknown as Record<string, number>, "repair");
  return `<header>
<h1>VOPR seed ${escapeHtml(timeline.seed)}${badge}</h1>
<div class="outcome-line"><b>outcome:</b> ${escapeHtml(run.outcome)}</div>
<div class="facts">
  <span><b>${timeline.ticks.toLocaleString("en-US")}</b> ticks (${simulatedTime(timeline.ticks)} simulated)</span>
  <span><b>mode</b> ${escapeHtml(mode)}</span>
  <span><b>${timeline.replicaCount}</b> replicas, <b>${timeline.standbyCount}</b> standbys, <b>${timeline.clientCount}</b> clients</span>
  <span><b>${run.requestsReplied}</b> requests replied</span>
  <span><b>replay:</b> <code id="replay">${escapeHtml(run.replay)}</code> <button id="copy-replay" title="copy">copy</button></span>
</div>
<div class="chips">${faults || `<span class="chip">no faults</span>`}${repairs}</div>
<details><summary>swarm parameters</summary><pre>${escapeHtml(timeline.swarm.join("\n"))}</pre></details>
${run.details === "" ? "" : `<details open><summary>failure details</summary><pre>${escapeHtml(run.details)}</pre></details>`}
</header>`;
}

/** 10 ms per tick, as "1h 02m 03.4s". */
function simulatedTime(ticks: number): string {
  const tenths = Math.round(ticks / 10);
  const hours = Math.floor(tenths / 36_000);
  const minutes = Math.floor(tenths / 600) % 60;
  const seconds = ((tenths % 600) / 10).toFixed(1);
  if (hours > 0) return `${hours}h ${String(minutes).padStart(2, "0")}m ${seconds.padStart(4, "0")}s`;
  return minutes > 0 ? `${minutes}m ${seconds.padStart(4, "0")}s` : `${seconds}s`;
}

function legend(): string {
  const swatch = (color: string, label: string): string => `<span><span class="swatch" style="background:${color}"></span>${label}</span>`;
  const line = (color: string, label: string): string => `<span><span class="line" style="border-color:${color}"></span>${label}</span>`;
  const glyph = (color: string, text: string, label: string): string =>
    `<span><span class="glyph" style="color:${color}">${text}</span>${label}</span>`;
  const m = colors.marks;
  const hatch = `repeating-linear-gradient(135deg, ${colors.paused} 0 2px, transparent 2px 6px)`;
  const groups: [string, string[]][] = [
    ["status", [...Object.entries(colors.status).filter(([name]) => name !== "other")
      .map(([name, color]) => swatch(color, name.replace("_", " "))), swatch(hatch, "paused")]],
    ["role", Object.entries(colors.role).filter(([, color]) => color !== null).map(([name, color]) => swatch(color!, name))],
    ["ops", [line(colors.op, "op"), line(colors.commitMax, "commit max"), line(colors.commitMin, "commit min"),
      line(colors.checkpoint, "checkpoint"), swatch(colors.checkpointing, "checkpoint being written")]],
    ["events", [glyph(m.crash!, "✕", "crash"), glyph(m.restart!, "▲", "restart"), glyph(m.reformat!, "◆", "reformat"),
      glyph(m.open!, "|", "opened"), glyph(m.clock_jump!, "◆", "clock jump"), glyph(m.sync_start!, "|", "state sync"),
      glyph(m.other!, "•", "notice")]],
    ["partition", [swatch(colors.partitionA, "side A"), swatch(colors.partitionB, "side B")]],
    ["per bucket", [swatch(colors.drops, "messages dropped"), swatch(colors.storage, "storage faults"), swatch(colors.repairs, "repairs")]],
    ["network", [swatch(colors.net.loss, "lost"), swatch(colors.net.filter, "partitioned"), swatch(colors.net.capacity, "link full"),
      swatch(colors.net.disabled, "to a down node")]],
    ["clients", [swatch(colors.requests, "requests"), swatch(colors.replies, "replies"), glyph(m.crash!, "✕", "evicted")]],
  ];
  const html = groups.map(([name, items]) => `<span class="group"><b>${name}</b>${items.join("")}</span>`).join("\n");
  return `<section id="legend">\n${html}\n</section>`;
}
