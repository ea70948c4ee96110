// The app's stylesheet, inlined by main.ts (the report is one file).
export const STYLES = `
:root { color-scheme: dark; }
body { margin: 0; background: #0f1217; color: #d8dee9; font: 13px/1.4 ui-sans-serif, system-ui, sans-serif; }
header { padding: 8px 14px; border-bottom: 1px solid #252b35; }
h1 { font-size: 16px; margin: 0; }
h2 { font-size: 13px; margin: 0 0 6px; color: #9fb3c8; }
.muted { color: #7d8896; font-weight: normal; }
.columns { display: flex; gap: 10px; padding: 10px; align-items: flex-start; }
.timeline { width: 360px; flex: none; max-height: calc(100vh - 80px); overflow: auto; position: sticky; top: 10px; }
.timeline ol { list-style: none; padding: 0; margin: 0; font: 12px ui-monospace, monospace; }
.timeline li { padding: 3px 6px; border-radius: 4px; cursor: pointer; }
.timeline li:hover { background: #1b212b; }
.timeline li.current { background: #24436b; color: #fff; }
.timeline li.future { opacity: 0.55; }
.timeline .n { color: #7d8896; display: inline-block; width: 2.2em; }
.timeline .result { display: block; color: #8fbf8f; padding-left: 2.4em; word-break: break-all; }
.main { flex: 1; min-width: 0; display: flex; flex-direction: column; gap: 10px; }
.panel { background: #151a21; border: 1px solid #252b35; border-radius: 6px; padding: 10px; }
.row { display: flex; gap: 6px; align-items: center; margin: 6px 0; flex-wrap: wrap; }
button { background: #222a35; color: #d8dee9; border: 1px solid #344050; border-radius: 4px; padding: 3px 9px; cursor: pointer; font: inherit; }
button:hover { background: #2c3746; }
button.on { background: #24436b; }
button:disabled { opacity: 0.5; cursor: default; }
select, input, textarea { background: #0f1217; color: #d8dee9; border: 1px solid #344050; border-radius: 4px; font: 12px ui-monospace, monospace; padding: 3px 6px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 12px; margin: 6px 0; font-size: 12px; }
.legend i { display: inline-block; width: 11px; height: 11px; margin-right: 4px; vertical-align: -1px; border-radius: 2px; }
.map canvas { display: block; image-rendering: pixelated; cursor: crosshair; background: #0b0d11; }
.toolbar { display: flex; gap: 6px; align-items: center; margin-bottom: 6px; }
.bands .band-strip { position: relative; height: 16px; background: #1b1f24; border-radius: 3px; margin-bottom: 6px; }
.band { position: absolute; top: 0; bottom: 0; border-radius: 2px; cursor: pointer; background: #2ea44f; opacity: 0.85; border-right: 1px solid #0f1217; }
.band.file { background: #1f78d1; } .band.shmem { background: #46a0b5; } .band.hugetlb { background: #d4a72c; }
.band.current { outline: 2px solid #fff; }
table { border-collapse: collapse; width: 100%; font: 12px ui-monospace, monospace; }
td, th { text-align: left; padding: 2px 6px; border-bottom: 1px solid #222831; vertical-align: top; }
tr.current td { background: #1d2b3d; }
.cellinfo { margin-top: 6px; font: 12px ui-monospace, monospace; }
.why { margin-top: 6px; font: 12px ui-monospace, monospace; padding: 6px 8px; border-left: 3px solid #2ea44f; background: #11161c; }
.why.muted { border-left-color: #344050; background: none; }
.why details { margin-top: 4px; }
.why-history { margin: 4px 0 0; padding-left: 20px; }
.why-history li.current { font-weight: bold; }
.why-history .n { color: #6b7684; }
.levels { list-style: none; padding: 0; margin: 0; font: 12px ui-monospace, monospace; }
.levels li { padding: 4px 6px; margin: 3px 0; border-left: 3px solid #344050; background: #11161c; }
.levels li.table { border-color: #4c6a8a; } .levels li.leaf { border-color: #2ea44f; } .levels li.huge-leaf { border-color: #8a3ffc; }
.levels li.marker { border-color: #e5383b; } .levels li.swap { border-color: #f08c00; } .levels li.none { border-color: #555; }
.levels .kind { color: #e6c07b; margin-left: 6px; }
.fields span { display: inline-block; margin: 2px 6px 0 0; padding: 0 4px; border-radius: 3px; background: #1c232d; }
.fields span.on { background: #234d2f; color: #b8f5c4; } .fields span.off { color: #6b7684; }
.folio { margin-top: 6px; font: 12px ui-monospace, monospace; }
.tabs { display: flex; gap: 4px; }
.op-input { flex: 1; min-width: 300px; }
.events { font: 12px ui-monospace, monospace; max-height: 300px; overflow: auto; margin: 0; padding-left: 3.5em; }
.events li { cursor: pointer; padding: 1px 4px; }
.events li.current { background: #24436b; color: #fff; }
.events li.walk_start, .events li.walk_end { color: #e6c07b; }
.regions code { display: inline-block; margin: 2px 4px 0 0; }
.error { color: #ff7b72; font: 12px ui-monospace, monospace; margin: 6px 0; }
.ok { color: #7ee787; }
.bad { color: #ff7b72; font-weight: bold; }
.diff-table tr.differs td { background: #3b1f24; }
.diff-table tr.first td { outline: 1px solid #ff7b72; }
.region-row { display: flex; align-items: center; gap: 6px; margin: 4px 0; }
.region-row .label { width: 70px; color: #9fb3c8; }
.region-row .strip { position: relative; flex: 1; height: 20px; background: #1b1f24; border-radius: 3px; overflow: hidden; }
.region-row .strip { height: 22px; }
.region { position: absolute; top: 0; bottom: 4px; background: #2ea44f; border-right: 1px solid #0f1217; font-size: 10px; line-height: 18px; overflow: hidden; white-space: nowrap; color: #0f1217; padding-left: 2px; box-sizing: border-box; }
.region-differs { position: absolute; bottom: 0; height: 4px; background: #ff3b30; }
.region-axis { display: flex; justify-content: space-between; margin-left: 76px; font: 11px ui-monospace, monospace; color: #9fb3c8; }
.region-rows { margin: 8px 0; padding: 6px; background: #11161c; border-radius: 4px; }
.first-values { display: flex; flex-direction: column; gap: 2px; font: 12px ui-monospace, monospace; margin: 4px 0; word-break: break-all; }
.row.nowrap { flex-wrap: nowrap; align-items: flex-start; }
.row.nowrap .label { flex: none; width: 110px; }
.profile { flex: 1; display: inline-flex; flex-wrap: wrap; gap: 4px; font: 11px ui-monospace, monospace; }
.profile span { background: #1c232d; border-radius: 3px; padding: 1px 5px; }
.profile span b { color: #9fb3c8; font-weight: normal; }
.profile span.differs { background: #4a3514; color: #ffd58a; }
.live { margin: 6px 0; padding: 6px; border: 1px dashed #344050; border-radius: 4px; }
.kernel-mark { background: #ff7b72; color: #0f1217; border-radius: 3px; padding: 0 4px; font-size: 10px; margin-right: 4px; }
.playground textarea { width: 100%; height: 300px; box-sizing: border-box; }
.fatal { padding: 20px; color: #ff7b72; font: 14px ui-monospace, monospace; }
`;
