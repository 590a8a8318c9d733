// The trace viewer's colours (shared by the canvas and the legend) and its stylesheet.

/** Vertical bands inside a replica's row, [offset from the row's top, height] in CSS pixels. */
export const bands = {
  role: [3, 4], status: [8, 20], partition: [30, 4], chart: [36, 24], drops: [62, 5], storage: [68, 3], repairs: [72, 3],
} as const;
export const rowHeights = { axis: 46, node: 80, network: 64, clients: 58 } as const;

export const colors = {
  status: {
    normal: "#93d3a2", view_change: "#f6b26b", recovering: "#b4a7d6", recovering_head: "#e8a0bf", down: "#5b5f66", other: "#cccccc",
  } as Record<string, string>,
  role: { primary: "#1f3f73", backup: "#c9d3e0", standby: "#6aa7b1", syncing: "#e6b422", down: null } as Record<string, string | null>,
  paused: "rgba(30,50,110,0.55)",
  partitionA: "#8fb8e3",
  partitionB: "#eb9a84",
  partition: "#8a6bbe",
  op: "#a3a8b0",
  commitMax: "#7eb3e6",
  commitMin: "#1c4587",
  checkpoint: "#38862d",
  checkpointing: "rgba(240,196,60,0.28)",
  checkpointAbandoned: "rgba(220,80,60,0.18)",
  drops: "#6a3fb0",
  storage: "#d21f1f",
  repairs: "#1c7ed6",
  requests: "#4a86c5",
  replies: "#4caf68",
  net: { loss: "#9aa0a6", filter: "#8a6bbe", capacity: "#e69138", disabled: "#5b5f66" },
  marks: {
    crash: "#d21f1f", restart: "#2e9d4a", reformat: "#c2188f", open: "#2e7d32", clock_jump: "#e67e00", clock_ideal: "#f3b76b",
    sync_start: "#b8860b", sync_done: "#b8860b", sync_cancel: "#b8860b", other: "#555b66",
  } as Record<string, string>,
};

export const stylesheet = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2330; background: #fff; }
header { padding: 14px 20px 10px; border-bottom: 1px solid #e3e6ea; background: #f7f8fa; }
h1 { margin: 0 0 6px; font-size: 19px; font-weight: 600; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 10px; font-size: 13px; font-weight: 600; vertical-align: 2px; margin-left: 8px; }
.badge.passed { background: #d8f0dd; color: #1e6b33; }
.badge.failed { background: #fbdada; color: #a11; }
.facts { display: flex; flex-wrap: wrap; gap: 4px 22px; margin: 4px 0; }
.facts b { font-weight: 600; }
.outcome-line { margin: 4px 0; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #eceef2; padding: 1px 5px; border-radius: 4px; }
button { font: inherit; border: 1px solid #c5cad3; background: #fff; border-radius: 5px; padding: 2px 9px; cursor: pointer; }
button:hover { background: #eef2f8; }
.chips { display: flex; flex-wrap: wrap; gap: 4px; margin: 5px 0 2px; }
.chip { background: #fff; border: 1px solid #dde1e7; border-radius: 10px; padding: 0 8px; font-size: 12px; }
.chip.fault { border-color: #f1c4c4; } .chip.repair { border-color: #c4d8f1; }
details { margin-top: 6px; } summary { cursor: pointer; color: #444; }
pre { font: 11.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #fff; border: 1px solid #e3e6ea; padding: 8px; overflow: auto; max-height: 320px; margin: 6px 0; }
#legend { display: flex; flex-wrap: wrap; gap: 4px 18px; padding: 8px 20px; border-bottom: 1px solid #e3e6ea; font-size: 12px; }
#legend .group { display: flex; flex-wrap: wrap; gap: 3px 10px; align-items: center; }
#legend .group > b { font-weight: 600; color: #555; margin-right: 2px; }
.swatch { display: inline-block; width: 14px; height: 10px; border-radius: 2px; vertical-align: -1px; margin-right: 4px; border: 1px solid rgba(0,0,0,0.08); }
.line { display: inline-block; width: 16px; height: 0; border-top: 2px solid; vertical-align: 3px; margin-right: 4px; }
.glyph { display: inline-block; width: 14px; text-align: center; font-weight: 700; margin-right: 3px; }
#toolbar { display: flex; align-items: center; gap: 6px; padding: 7px 20px; position: sticky; top: 0; background: rgba(255,255,255,0.96); z-index: 3; border-bottom: 1px solid #e3e6ea; }
#range { margin-left: 10px; font-variant-numeric: tabular-nums; color: #333; }
.hint { margin-left: auto; color: #888; font-size: 12px; }
#chart { display: flex; padding: 0 12px 24px 0; }
#labels { position: relative; width: 178px; flex: none; }
.row-label { position: absolute; left: 0; right: 0; padding: 4px 44px 0 14px; border-bottom: 1px solid #e3e6ea; overflow: hidden; }
.row-label b { display: block; font-size: 13px; }
.row-label .muted { display: block; font-size: 11px; line-height: 1.3; }
.row-label .band { position: absolute; right: 6px; font-size: 9.5px; line-height: 10px; color: #9aa0a8; text-align: right; }
.row-label.row-axis { background: #f7f8fa; }
.muted { color: #80868f; }
#plot { position: relative; flex: 1; min-width: 0; cursor: crosshair; }
#plot.dragging { cursor: grabbing; }
#plot canvas { position: absolute; left: 0; top: 0; }
#tooltip { position: absolute; z-index: 5; pointer-events: none; background: rgba(255,255,255,0.98); border: 1px solid #c5cad3; border-radius: 6px;
  box-shadow: 0 3px 12px rgba(0,0,0,0.15); padding: 7px 10px; font-size: 12px; max-width: 440px; }
#tooltip table { border-collapse: collapse; }
#tooltip th { text-align: left; font-weight: 500; color: #6b717a; padding: 0 10px 0 0; vertical-align: top; white-space: nowrap; }
#tooltip td { padding: 0; }
#tooltip td.num { text-align: right; padding-right: 8px; font-variant-numeric: tabular-nums; }
.tt-title { font-weight: 600; font-size: 13px; }
.tt-tick { color: #555; margin-bottom: 3px; font-variant-numeric: tabular-nums; }
.tt-section { margin-top: 5px; font-weight: 600; color: #444; }
`;
