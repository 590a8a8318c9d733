// `scarab vopr report --html OUT`: the report as ONE self-contained HTML file (inline CSS, inline
// SVG histograms, a few lines of inline script, no URL of any kind), to attach to a CI run or open
// from a pod's volume. Same content as the text report, failures first. Every piece of text from
// the lines is escaped: outcomes and stacks are arbitrary strings.
import { formatSimulated } from "./vopr_fleet_summary.js";
import { throughput, type CountTotal, type Distribution, type FleetReport } from "./vopr_report_merge.js";
import { distributionText, formatMs, shrinkCommand } from "./vopr_report_text.js";

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

const style = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1200px; color: #1d232b; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #d8dde3; }
table { border-collapse: collapse; margin: 6px 0; } th, td { padding: 3px 10px; text-align: left; vertical-align: top; }
th { background: #eef1f4; } tr:nth-child(even) td { background: #f7f8fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font: 12px ui-monospace, monospace; background: #f0f2f5; padding: 1px 4px; border-radius: 3px; cursor: pointer; white-space: nowrap; }
.scroll { overflow-x: auto; } #faults table { display: inline-table; margin-right: 24px; vertical-align: top; }
#failures tr.failure td { background: #fdecec; } .pass { color: #1d7a3a; font-weight: 600; } .fail { color: #b3261e; font-weight: 600; }
tr.never td { color: #8a5a00; } .warn li { color: #8a5a00; } .muted { color: #66707c; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.card { border: 1px solid #d8dde3; border-radius: 6px; padding: 8px 14px; min-width: 140px; }
.card b { display: block; font-size: 20px; } svg.histogram { background: #fbfcfd; border: 1px solid #d8dde3; margin: 4px 16px 4px 0; }
svg.histogram rect.bar { fill: #4a78b0; } svg.histogram text { font: 11px system-ui, sans-serif; fill: #3a434d; }
pre { white-space: pre-wrap; font-size: 11px; margin: 4px 0; max-height: 220px; overflow: auto; }
`;

// Clicking a command selects it, ready to copy (no clipboard permission needed).
const script = `
for (const code of document.querySelectorAll("code")) {
  code.addEventListener("click", () => window.getSelection().selectAllChildren(code));
}
`;

export function reportHtml(report: FleetReport): string {
  const status = report.failures.length === 0
    ? `<span class="pass">all ${report.seeds} seeds passed</span>`
    : `<span class="fail">${report.failures.length} failing seed(s)</span>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>VOPR report: ${report.seeds} seeds</title>
<style>${style}</style></head><body>
<h1>VOPR report</h1>
<p>${status} · ${report.seeds} seed(s) from ${report.files.length} file(s) · commit ${escapeHtml(report.commits.join(", ") || "?")}
 · node ${escapeHtml(report.nodes.join(", ") || "?")}</p>
${failures(report)}
${cards(report)}
${warnings(report)}
${outcomes(report)}
${distributions(report)}
${faults(report)}
${probes(report)}
${slowest(report)}
${fleets(report)}
<script>${script}</script>
</body></html>
`;
}

function cards(report: FleetReport): string {
  const figures = throughput(report);
  const fixed = (value: number | null, digits: number): string => (value === null ? "?" : value.toFixed(digits));
  const card = (label: string, value: string): string => `<div class="card"><b>${escapeHtml(value)}</b>${escapeHtml(label)}</div>`;
  return `<div class="cards" id="throughput">${[
    card("seeds", String(report.seeds)), card("failures", String(report.failures.length)),
    card("seeds/s", fixed(figures.seedsPerS, 2)), card("seeds per core-hour", fixed(figures.seedsPerCoreHour, 0)),
    card("× real time per core", fixed(figures.ratioPerCore, 0)), card("× real time overall", fixed(figures.ratioOverall, 0)),
    card("simulated", formatSimulated(report.simulatedMs)), card("wall clock", report.spanMs === null ? "?" : formatMs(report.spanMs)),
    card("rechecked (digest mismatches)", `${report.rechecked} (${report.nondeterministic})`), card("timeouts", String(report.timeouts)),
  ].join("")}</div>`;
}

function table(id: string, head: readonly string[], rows: readonly string[]): string {
  return `<table id="${id}"><thead><tr>${head.map((cell) => `<th>${escapeHtml(cell)}</th>`).join("")}</tr></thead>` +
    `<tbody>${rows.join("\n")}</tbody></table>`;
}

const num = (value: number | string): string => `<td class="num">${escapeHtml(String(value))}</td>`;
const cell = (text: string): string => `<td>${escapeHtml(text)}</td>`;
const command = (text: string): string => `<td><code>${escapeHtml(text)}</code></td>`;

function failures(report: FleetReport): string {
  if (report.failures.length === 0) return `<section id="failures"><h2>Failures</h2><p class="pass">None.</p></section>`;
  const rows = report.failures.map((line) => `<tr class="failure" data-seed="${escapeHtml(line.seed)}">${cell(line.seed)}` +
    `${num(line.exitCode)}<td>${escapeHtml(line.outcome)}${line.details === "" ? "" : `<pre>${escapeHtml(line.details)}</pre>`}</td>` +
    `${cell(line.shard)}<td title="${escapeHtml(line.commit)}">${escapeHtml(line.commit.slice(0, 12))}</td>` +
    `${command(line.replay)}${command(shrinkCommand(line))}</tr>`);
  return `<section id="failures"><h2>Failures (${report.failures.length})</h2><div class="scroll">` +
    table("failure-table", ["seed", "exit", "outcome", "shard", "commit", "replay", "shrink"], rows) + `</div></section>`;
}

function warnings(report: FleetReport): string {
  if (report.warnings.length === 0) return "";
  return `<section id="warnings"><h2>Warnings (${report.warnings.length})</h2><ul class="warn">` +
    report.warnings.map((warning) => `<li>${escapeHtml(warning)}</li>`).join("") + `</ul></section>`;
}

function outcomes(report: FleetReport): string {
  const rows = report.outcomes.map(([kind, count]) => `<tr>${cell(kind)}${num(count)}</tr>`);
  return `<section id="outcomes"><h2>Outcomes</h2>${table("outcome-table", ["outcome", "seeds"], rows)}</section>`;
}

function distributions(report: FleetReport): string {
  const rows = [
    `<tr>${cell("ticks per seed")}${cell(distributionText(report.ticks, (value) => value.toFixed(0)))}</tr>`,
    `<tr>${cell("wall time per seed")}${cell(distributionText(report.wallMs, formatMs))}</tr>`,
  ];
  return `<section id="distributions"><h2>Distributions</h2>` +
    histogramSvg("histogram-ticks", "ticks per seed", report.ticks, (value) => value.toFixed(0)) +
    histogramSvg("histogram-wall", "wall time per seed", report.wallMs, formatMs) +
    table("distribution-table", ["", "distribution"], rows) + `</section>`;
}

function faults(report: FleetReport): string {
  const rows = (counts: readonly CountTotal[]): string[] => counts.map((count) => `<tr>${cell(count.name)}${num(count.total)}${num(count.seeds)}</tr>`);
  return `<section id="faults"><h2>Faults injected and repairs</h2>` +
    table("fault-table", ["fault", "total", "seeds"], rows(report.faults)) +
    table("repair-table", ["repair", "total", "seeds"], rows(report.repairs)) + `</section>`;
}

function probes(report: FleetReport): string {
  const rows = report.probes.map((probe) => `<tr class="${probe.seeds === 0 ? "never" : "hit"}" data-probe="${escapeHtml(probe.name)}">` +
    `${cell(probe.name)}${num(probe.seeds)}${num(probe.hits)}${cell(probe.description)}</tr>`);
  const never = report.probes.filter((probe) => probe.inCatalog && probe.seeds === 0).map((probe) => probe.name);
  const catalog = report.probes.filter((probe) => probe.inCatalog).length;
  return `<section id="probes"><h2>Coverage probes (${catalog - never.length} of ${catalog} hit)</h2>` +
    table("probe-table", ["probe", "seeds", "hits", "description"], rows) +
    `<p id="never-hit">Never hit${never.length === 0 ? ": none" : ` (${never.length}): ${never.map(escapeHtml).join(", ")}`}</p></section>`;
}

function slowest(report: FleetReport): string {
  const rows = report.slowest.map((line) => `<tr>${cell(line.seed)}${num(formatMs(line.wallMs))}${num(line.ticks)}${num(line.exitCode)}` +
    `${cell(line.outcome)}</tr>`);
  return `<section id="slowest"><h2>Slowest seeds</h2>${table("slowest-table", ["seed", "wall", "ticks", "exit", "outcome"], rows)}</section>`;
}

function fleets(report: FleetReport): string {
  const rows = report.fleets.map((fleet) => `<tr>${cell(fleet.shard)}${cell(fleet.base)}${num(fleet.seeds)}${num(fleet.shardSeeds)}` +
    `${num(fleet.jobs)}${cell(fleet.startedAt)}${num(formatMs(fleet.wallMs))}${num(fleet.failed)}${cell(fleet.flags.join(" "))}` +
    `${cell(fleet.commit)}${cell(fleet.node)}</tr>`);
  return `<section id="fleets"><h2>Fleets and shards</h2>` +
    table("fleet-table", ["shard", "base", "seeds", "shard seeds", "jobs", "started", "wall", "failed", "flags", "commit", "node"], rows) +
    `</section>`;
}

const svgWidth = 560;
const svgHeight = 200;
const margin = { left: 44, right: 12, top: 22, bottom: 34 };

/** A histogram as inline SVG; log-spaced bins when the values span more than two decades. */
export function histogramSvg(id: string, title: string, d: Distribution, format: (value: number) => string): string {
  const open = `<svg id="${id}" class="histogram" width="${svgWidth}" height="${svgHeight}" ` +
    `viewBox="0 0 ${svgWidth} ${svgHeight}" role="img" aria-label="${escapeHtml(title)}">` +
    `<text x="${margin.left}" y="15">${escapeHtml(title)} (${d.count} seeds)</text>`;
  if (d.count === 0) return `${open}<text x="${svgWidth / 2}" y="${svgHeight / 2}" text-anchor="middle">no data</text></svg>`;
  const bins = histogramBins(d);
  const countMax = Math.max(...bins.map((bin) => bin.count));
  const plotWidth = svgWidth - margin.left - margin.right;
  const plotHeight = svgHeight - margin.top - margin.bottom;
  const barWidth = plotWidth / bins.length;
  const bars = bins.map((bin, index) => {
    const height = countMax === 0 ? 0 : (bin.count / countMax) * plotHeight;
    const x = margin.left + index * barWidth;
    const y = margin.top + plotHeight - height;
    return `<rect class="bar" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, barWidth - 1).toFixed(1)}" ` +
      `height="${height.toFixed(1)}"><title>${escapeHtml(`${format(bin.low)} – ${format(bin.high)}: ${bin.count} seeds`)}</title></rect>`;
  }).join("");
  const base = margin.top + plotHeight;
  const labels = [
    `<text x="${margin.left}" y="${base + 14}">${escapeHtml(format(bins[0]!.low))}</text>`,
    `<text x="${svgWidth - margin.right}" y="${base + 14}" text-anchor="end">${escapeHtml(format(bins[bins.length - 1]!.high))}</text>`,
    `<text x="${svgWidth / 2}" y="${base + 28}" text-anchor="middle">${bins.logScale ? "log scale" : "linear scale"}</text>`,
    `<text x="${margin.left - 4}" y="${margin.top + 8}" text-anchor="end">${countMax}</text>`,
    `<text x="${margin.left - 4}" y="${base}" text-anchor="end">0</text>`,
    `<line x1="${margin.left}" y1="${base}" x2="${svgWidth - margin.right}" y2="${base}" stroke="#8a939d"/>`,
  ].join("");
  return `${open}${bars}${labels}</svg>`;
}

interface Bin {
  readonly low: number;
  readonly high: number;
  count: number;
}

export function histogramBins(d: Distribution): Bin[] & { logScale: boolean } {
  const binCount = Math.max(1, Math.min(30, Math.ceil(Math.sqrt(d.count)) * 2));
  const low = d.min;
  const high = d.max > d.min ? d.max : d.min + 1;
  const logScale = low > 0 && high / low > 100;
  const edge = (index: number): number => logScale
    ? low * Math.pow(high / low, index / binCount)
    : low + ((high - low) * index) / binCount;
  const bins: Bin[] = [];
  for (let index = 0; index < binCount; index++) bins.push({ low: edge(index), high: edge(index + 1), count: 0 });
  for (const value of d.sorted) {
    const position = logScale ? Math.log(value / low) / Math.log(high / low) : (value - low) / (high - low);
    bins[Math.min(binCount - 1, Math.max(0, Math.floor(position * binCount)))]!.count += 1;
  }
  return Object.assign(bins, { logScale });
}
