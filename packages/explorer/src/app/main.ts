// The explorer's browser app (Preact + htm): op timeline, address-space
// map, page-table tree, walk traces, kernel diff and a playground. It runs
// the simulator itself, from the packages the CLI uses, so the static
// report needs no server.
import { render } from 'preact';
import { html } from 'htm/preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { TraceEvent } from '@pagewalk/core-walk';
import { CATEGORY_NAMES, parseScenario, type OpResult, type RecordingProfile, type ResultDifference } from '@pagewalk/scenario';
import { PAGE_KIND_NAMES, PageBit, type VmaInfo } from '../model/classify.js';
import { CATEGORY_COLOR, KIND_COLORS, hexColor } from '../model/colors.js';
import { ScenarioExplorer, parseScenarioText, scenarioErrorLine, type TraceRun } from '../model/explorer.js';
import { stepText, type WhyAnswer } from '../model/why.js';
import { regionColor, regionRows, type Region, type RegionRows as RegionRowsData } from '../model/diff-regions.js';
import {
  defaultRecordingIndex,
  liveRecording,
  prepareRecordings,
  profileDifferences,
  profileItems,
  recordingLabel,
  type PreparedRecording,
  type ReportData,
} from '../model/report-data.js';
import type { TreeInfo } from '../model/tree.js';
import { cellCenter, drawMap, fitZoom, layoutFor, pageAt, type MapLayout } from './map-canvas.js';
import { STYLES } from './styles.js';

const MAP_WIDTH = 1024;

function readData(): ReportData {
  const element = document.getElementById('pagewalk-data');
  if (element === null) throw new Error('no scenario embedded in this page');
  return JSON.parse(element.textContent ?? '{}') as ReportData;
}

const short = (value: unknown): string => JSON.stringify(value);
const hex = (value: number): string => `0x${value.toString(16).padStart(8, '0')}`;
const addressHex = (value: number): string => `0x${value.toString(16)}`;

function opLabel(op: Record<string, unknown>): string {
  const { op: name, ...rest } = op;
  return `${String(name)} ${Object.entries(rest).map(([key, value]) => `${key}=${typeof value === 'object' ? short(value) : String(value)}`).join(' ')}`;
}

function resultLabel(result: OpResult | undefined): string {
  if (result === undefined) return '';
  const { op: _op, ...rest } = result as unknown as Record<string, unknown>;
  return short(rest);
}

/** The pages a trace event covers, for the map overlay. */
function eventPages(event: TraceEvent, base: number): { start: number; end: number } | null {
  if (event.type === 'callback') return { start: Math.floor((event.addr - base) / 4096), end: Math.ceil((event.next - base) / 4096) };
  if (event.type !== 'walk_start' && event.type !== 'walk_end' && event.end > event.addr) return { start: Math.floor((event.addr - base) / 4096), end: Math.ceil((event.end - base) / 4096) };
  return null;
}

function eventLine(event: TraceEvent, base: number): string {
  const page = (address: number) => {
    const p = (address - base) / 4096;
    return Number.isInteger(p) && p >= 0 ? String(p) : addressHex(address);
  };
  if (event.type === 'walk_start') return `${event.fn}(${page(event.start)}..${page(event.end)}) ops: ${event.ops.join(', ')}`;
  if (event.type === 'walk_end') return `${event.fn} returned ${event.ret}`;
  // An mm event (fault path, zap, split, reclaim, madvise, collapse): its own sentence.
  if (event.type !== 'callback') return `[${event.type}] ${stepText(event, (start, end) => (end - start <= 4096 ? page(start) : `${page(start)}..${page(end)}`))}`;
  const parts = [`${event.fn} → ops->${event.callback}(${page(event.addr)}..${page(event.next)})`];
  if (event.depth !== undefined) parts.push(`depth ${event.depth}`);
  if (event.entry !== undefined) parts.push(`entry ${hex(event.entry)}`);
  if (event.count !== undefined) parts.push(`${event.count} PTEs`);
  parts.push(`ret ${event.ret}`);
  if (event.action !== undefined) parts.push(`action ${event.action}`);
  return parts.join('  ');
}

function Legend({ category }: { category: number }) {
  if (category >= 0) {
    return html`<div class="legend">
      <span><i style=${`background:${hexColor(CATEGORY_COLOR)}`}></i>${CATEGORY_NAMES[category]}</span>
      <span><i style="background:#2d323a"></i>not ${CATEGORY_NAMES[category]}</span>
      <span><i style=${`background:${hexColor(KIND_COLORS[0]!)}`}></i>no VMA</span>
    </div>`;
  }
  return html`<div class="legend">${PAGE_KIND_NAMES.map((name, kind) => html`<span><i style=${`background:${hexColor(KIND_COLORS[kind]!)}`}></i>${name}</span>`)}</div>`;
}

function VmaBands({ vmas, pages, selected, onSelect }: { vmas: readonly VmaInfo[]; pages: number; selected: number; onSelect: (page: number) => void }) {
  return html`<div class="bands">
    <div class="band-strip">
      ${vmas.map((vma) => {
        const left = (Math.max(0, vma.startPage) / pages) * 100;
        const width = ((Math.min(pages, vma.endPage) - Math.max(0, vma.startPage)) / pages) * 100;
        return html`<div class=${`band ${vma.kind}${selected >= vma.startPage && selected < vma.endPage ? ' current' : ''}`} style=${`left:${left}%;width:${Math.max(width, 0.2)}%`}
          title=${`${vma.startPage}..${vma.endPage} ${vma.prot} ${vma.flags.join(' ')}`} onClick=${() => onSelect(vma.startPage)}></div>`;
      })}
    </div>
    <table class="vmas">
      <tr><th>pages</th><th>prot</th><th>backing</th><th>attributes</th></tr>
      ${vmas.map(
        (vma) => html`<tr class=${selected >= vma.startPage && selected < vma.endPage ? 'current' : ''}>
          <td>${vma.startPage}..${vma.endPage}</td><td>${vma.prot}</td><td>${vma.kind}${vma.shared ? ' (shared)' : ''}</td>
          <td>${[vma.locked ? 'locked' : '', vma.hugepage ? 'MADV_HUGEPAGE' : '', vma.nohugepage ? 'MADV_NOHUGEPAGE' : '', vma.uffdWp ? (vma.uffdWpAsync ? 'uffd-wp (async)' : 'uffd-wp registered') : '']
            .filter(Boolean)
            .join(', ') || '—'}</td>
        </tr>`,
      )}
    </table>
  </div>`;
}

function TreeView({ tree, page }: { tree: TreeInfo | null; page: number }) {
  if (tree === null) return html`<div class="panel tree"><h2>Page-table tree</h2><p class="muted">Hover or click a page on the map.</p></div>`;
  return html`<div class="panel tree" data-testid="tree">
    <h2>Page-table tree of page ${page} (${addressHex(tree.address)})</h2>
    <ol class="levels">
      ${tree.levels.map(
        (level) => html`<li class=${`level ${level.kind.replace(/\s/g, '-')}`} data-level=${level.level}>
          <b>${level.level}</b> [${level.index}] of table ${level.table}: <code>${hex(level.raw)}</code> <span class="kind">${level.folded ? 'folded into the PGD (4-level paging)' : level.kind}</span>
          ${level.fields.length > 0 && !level.folded
            ? html`<div class="fields">${level.fields.map(([name, value]) => html`<span class=${value === true ? 'on' : value === false ? 'off' : ''}>${name}${typeof value === 'boolean' ? '' : `=${value}`}</span>`)}</div>`
            : null}
        </li>`,
      )}
    </ol>
    ${tree.folio !== null
      ? html`<div class="folio" data-testid="folio"><b>folio</b> pfn ${tree.folio.pfn} (head ${tree.folio.head}), order ${tree.folio.order}, refcount ${tree.folio.refcount},
          mapcount ${tree.folio.mapcount} (folio ${tree.folio.folioMapcount}), flags ${tree.folio.flags.join(' ')}</div>`
      : null}
    ${tree.swap !== null ? html`<div class="folio"><b>swap</b> device ${tree.swap.type}, slot ${tree.swap.slot}, swap count ${tree.swap.count}</div>` : null}
  </div>`;
}

interface MapProps {
  explorer: ScenarioExplorer;
  index: number;
  category: number;
  highlight: { start: number; end: number } | null;
  selected: number;
  onHover: (page: number) => void;
  onSelect: (page: number) => void;
}

function MapView({ explorer, index, category, highlight, selected, onHover, onSelect }: MapProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const pages = explorer.arenaPages;
  const [zoom, setZoom] = useState(() => fitZoom(pages, MAP_WIDTH));
  const [firstRow, setFirstRow] = useState(0);
  const layout = useMemo(() => layoutFor(pages, MAP_WIDTH, zoom, firstRow), [pages, zoom, firstRow]);
  const [renderMs, setRenderMs] = useState(0);
  const snapshot = explorer.snapshot(index);
  useEffect(() => {
    if (canvas.current === null) return;
    const ms = drawMap(canvas.current, layout, snapshot, category, highlight, selected);
    setRenderMs(ms);
    (window as unknown as { __pagewalkMap?: unknown }).__pagewalkMap = { layout, renderMs: ms };
  }, [layout, snapshot, category, highlight, selected]);
  const pointPage = (event: MouseEvent): number => {
    const rect = (event.currentTarget as HTMLCanvasElement).getBoundingClientRect();
    return pageAt(layout, pages, event.clientX - rect.left, event.clientY - rect.top);
  };
  const zoomTo = (next: number, anchor: number) => {
    const clamped = Math.max(-12, Math.min(5, next));
    const nextLayout = layoutFor(pages, MAP_WIDTH, clamped, 0);
    const row = Math.floor(anchor / nextLayout.pagesPerCell / nextLayout.cols);
    setZoom(clamped);
    setFirstRow(Math.max(0, row - Math.floor(nextLayout.visibleRows / 2)));
  };
  return html`<div class="panel map">
    <div class="toolbar">
      <button onClick=${() => zoomTo(zoom + 1, selected >= 0 ? selected : 0)} title="zoom in">+</button>
      <button onClick=${() => zoomTo(zoom - 1, selected >= 0 ? selected : 0)} title="zoom out">−</button>
      <button onClick=${() => { setZoom(fitZoom(pages, MAP_WIDTH)); setFirstRow(0); }}>whole arena</button>
      <button onClick=${() => zoomTo(5, selected >= 0 ? selected : 0)}>single pages</button>
      <span class="muted">${layout.pagesPerCell > 1 ? `${layout.pagesPerCell} pages per pixel` : `${layout.cell}px per page`}, ${layout.cols * layout.pagesPerCell} pages per row,
        rows ${layout.firstRow}..${layout.firstRow + layout.visibleRows} of ${layout.rows}; drawn in ${renderMs.toFixed(1)} ms</span>
    </div>
    <canvas ref=${canvas} data-testid="map" width=${layout.width} height=${layout.height}
      onMouseMove=${(event: MouseEvent) => { const page = pointPage(event); if (page >= 0) onHover(page); }}
      onClick=${(event: MouseEvent) => { const page = pointPage(event); if (page >= 0) onSelect(page); }}
      onWheel=${(event: WheelEvent) => {
        event.preventDefault();
        if (event.ctrlKey || event.metaKey) zoomTo(zoom + (event.deltaY < 0 ? 1 : -1), pointPage(event) >= 0 ? pointPage(event) : 0);
        else setFirstRow(Math.max(0, Math.min(layout.rows - layout.visibleRows, layout.firstRow + Math.sign(event.deltaY) * Math.max(1, Math.floor(layout.visibleRows / 8)))));
      }}></canvas>
  </div>`;
}

function CellInfo({ explorer, index, page }: { explorer: ScenarioExplorer; index: number; page: number }) {
  if (page < 0) return null;
  const snapshot = explorer.snapshot(index);
  const kind = snapshot.kinds[page]!;
  const bits = snapshot.bits[page]!;
  const categories = snapshot.categories === null ? [] : CATEGORY_NAMES.filter((_, bit) => (snapshot.categories![page]! & (1 << bit)) !== 0);
  const flags = [bits & PageBit.UffdWp ? 'uffd-wp' : '', bits & PageBit.Dirty ? 'dirty' : '', bits & PageBit.SoftDirty ? 'soft-dirty' : ''].filter(Boolean);
  return html`<div class="cellinfo" data-testid="cellinfo">page ${page}: <b>${PAGE_KIND_NAMES[kind]}</b>${flags.length > 0 ? ` (${flags.join(', ')})` : ''};
    PAGEMAP_SCAN categories: ${categories.length > 0 ? categories.join(' ') : '—'}</div>`;
}

/** "Why is this page what it is": the answer built from the mm trace events of the ops up to the selected one. */
function WhyPanel({ explorer, index, page, pinned }: { explorer: ScenarioExplorer; index: number; page: number; pinned: boolean }) {
  const answer = useMemo((): WhyAnswer | null => (pinned && page >= 0 ? explorer.why(index, page) : null), [explorer, index, page, pinned]);
  if (page < 0) return null;
  if (answer === null) return html`<div class="why muted" data-testid="why">Click a page to ask why it is what it is.</div>`;
  return html`<div class="why" data-testid="why">
    <div class="why-summary"><b>why?</b> ${answer.summary}</div>
    ${answer.history.length > 0
      ? html`<details><summary>${answer.history.length} mm event${answer.history.length === 1 ? '' : 's'} touched page ${page} up to op ${index}</summary>
          <ol class="why-history">${answer.history.map((step) => html`<li class=${step.op === answer.steps[0]?.op ? 'current' : ''}><span class="n">op ${step.op}</span> ${step.text}</li>`)}</ol>
        </details>`
      : null}
  </div>`;
}

function TraceView({ explorer, index, onHighlight }: { explorer: ScenarioExplorer; index: number; onHighlight: (range: { start: number; end: number } | null) => void }) {
  const defaultOp = `{"op": "scan", "page": 0, "pages": ${explorer.arenaPages}, "return_mask": ["all"]}`;
  const [text, setText] = useState(defaultOp);
  const [run, setRun] = useState<TraceRun | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [step, setStep] = useState(0);
  const [playing, setPlaying] = useState(false);
  const base = explorer.addressOf(0);
  useEffect(() => {
    if (!playing || run === null) return;
    const timer = setInterval(() => {
      setStep((current) => {
        if (current + 1 >= run.events.length) {
          setPlaying(false);
          return current;
        }
        return current + 1;
      });
    }, 120);
    return () => clearInterval(timer);
  }, [playing, run]);
  useEffect(() => {
    const event = run?.events[step];
    onHighlight(event === undefined ? null : eventPages(event, base));
  }, [run, step]);
  const start = () => {
    try {
      const result = explorer.trace(index, JSON.parse(text));
      setRun(result);
      setError(null);
      setStep(0);
      setPlaying(true);
    } catch (caught) {
      setError(scenarioErrorLine(caught));
      setRun(null);
    }
  };
  const regions = (run?.result as { regions?: [number, number, string[]][] } | undefined)?.regions;
  return html`<div class="panel trace" data-testid="trace">
    <h2>Walk trace at op ${index}</h2>
    <div class="row">
      <input class="op-input" value=${text} onInput=${(event: Event) => setText((event.target as HTMLInputElement).value)} spellcheck="false" />
      <button data-testid="trace-run" onClick=${start}>trace</button>
    </div>
    <div class="row presets">
      <button onClick=${() => setText(defaultOp)}>PAGEMAP_SCAN all</button>
      <button onClick=${() => setText(`{"op": "scan", "page": 0, "pages": ${explorer.arenaPages}, "category_anyof_mask": ["guard", "swapped"], "return_mask": ["all"]}`)}>scan guard|swapped</button>
      <button onClick=${() => setText(`{"op": "pagemap", "page": 0, "pages": ${Math.min(64, explorer.arenaPages)}}`)}>/proc/self/pagemap read</button>
      <button onClick=${() => setText(`{"op": "madvise", "page": 0, "pages": 1, "advice": "guard_install"}`)}>MADV_GUARD_INSTALL walker</button>
    </div>
    ${error !== null ? html`<div class="error">${error}</div>` : null}
    ${run !== null
      ? html`<div class="row">
            <button onClick=${() => setStep(Math.max(0, step - 1))}>◀</button>
            <button onClick=${() => setPlaying(!playing)}>${playing ? 'pause' : 'play'}</button>
            <button onClick=${() => setStep(Math.min(run.events.length - 1, step + 1))}>▶</button>
            <span class="muted">event ${step + 1} of ${run.events.length}${run.dropped > 0 ? ` (+${run.dropped} not kept)` : ''}; result ${resultLabel(run.result)}</span>
          </div>
          <ol class="events">
            ${run.events.slice(Math.max(0, step - 12), step + 30).map((event, i) => {
              const n = Math.max(0, step - 12) + i;
              return html`<li class=${`${n === step ? 'current' : ''} ${event.type}`} onClick=${() => setStep(n)} value=${n + 1}>${eventLine(event, base)}</li>`;
            })}
          </ol>
          ${regions !== undefined ? html`<div class="regions"><b>regions returned</b> ${regions.map((r) => html`<code>[${r[0]}, ${r[1]}) ${r[2].join(' ')}</code> `)}</div>` : null}`
      : html`<p class="muted">Runs the op on a replay of the state after the selected op, with kernel.trace() on.</p>`}
  </div>`;
}

function RegionRow({ label, regions, range, differs }: { label: string; regions: readonly Region[]; range: readonly [number, number]; differs?: readonly (readonly [number, number])[] }) {
  const [lo, hi] = range;
  const span = Math.max(1, hi - lo);
  const left = (page: number) => `${((page - lo) / span) * 100}%`;
  const width = (start: number, end: number) => `${Math.max(((end - start) / span) * 100, 0.4)}%`;
  return html`<div class="region-row" data-testid=${`regions-${label}`}><span class="label">${label}</span><div class="strip">
    ${regions.map(([start, end, names]) => html`<div class="region" style=${`left:${left(start)};width:${width(start, end)};background:${regionColor(names)}`} title=${`pages ${start}..${end}: ${names.join(' ') || '(no category)'}`}>${names.join(' ')}</div>`)}
    ${(differs ?? []).map(([start, end]) => html`<div class="region-differs" style=${`left:${left(start)};width:${width(start, end)}`} title=${`pages ${start}..${end} differ`}></div>`)}
  </div></div>`;
}

function RegionRows({ rows }: { rows: RegionRowsData }) {
  const [lo, hi] = rows.range;
  return html`<div class="region-rows" data-testid="region-rows">
    <${RegionRow} label="simulator" regions=${rows.simulator} range=${rows.range} differs=${rows.differs} />
    <${RegionRow} label="kernel" regions=${rows.kernel} range=${rows.range} differs=${rows.differs} />
    <div class="region-axis"><span>page ${lo}</span><span class="muted">${rows.differs.length === 0 ? 'same pages, same categories' : `differs on pages ${rows.differs.slice(0, 6).map(([a, b]) => (b - a === 1 ? `${a}` : `${a}..${b}`)).join(', ')}${rows.differs.length > 6 ? ', …' : ''} (red)`}</span><span>page ${hi}</span></div>
  </div>`;
}

function ProfileChips({ profile, host, testid }: { profile: RecordingProfile; host: RecordingProfile | null; testid: string }) {
  const differing = new Set(host === null ? [] : profileDifferences(profile, host));
  return html`<div class="profile" data-testid=${testid}>${profileItems(profile).map(
    ([key, value]) => html`<span class=${differing.has(key) ? 'differs' : ''} title=${differing.has(key) ? 'differs from this host' : ''}><b>${key}</b> ${value}</span>`,
  )}</div>`;
}

type LiveState = { status: 'idle' } | { status: 'running' } | { status: 'error'; error: string } | { status: 'done'; recording: PreparedRecording };

interface KernelDiff {
  readonly simulator: OpResult[];
  readonly kernel: OpResult[];
  readonly first: ResultDifference | null;
}

interface DiffProps {
  data: ReportData;
  edited: boolean;
  recordings: readonly PreparedRecording[];
  choice: number | 'live';
  onChoose: (choice: number | 'live') => void;
  target: PreparedRecording | null;
  explorer: ScenarioExplorer | null;
  diff: KernelDiff | null;
  live: LiveState;
  onRunLive: (underRecording: boolean) => void;
  onJump: (op: number) => void;
  sourceOps: readonly Record<string, unknown>[];
}

function LivePanel({ data, live, target, onRunLive }: Pick<DiffProps, 'data' | 'live' | 'target' | 'onRunLive'>) {
  const [under, setUnder] = useState(false);
  if (data.live === undefined) {
    return html`<div class="live" data-testid="live"><span class="muted">Runs on this kernel need the local server: <code>pagewalk explore ${data.file}</code> (this static report has none).</span></div>`;
  }
  if (!data.live.available) return html`<div class="live" data-testid="live"><span class="muted">This host cannot run scenarios on its kernel: ${data.live.reason}.</span></div>`;
  const canUnder = target !== null && target.tag !== 'live' && target.profile !== null;
  return html`<div class="live" data-testid="live">
    <div class="row">
      <button data-testid="kernel-run" disabled=${live.status === 'running'} onClick=${() => onRunLive(under && canUnder)}>${live.status === 'running' ? 'running on this kernel…' : 'run on this kernel'}</button>
      <label class=${canUnder ? '' : 'muted'}><input type="checkbox" checked=${under && canUnder} disabled=${!canUnder} onChange=${(event: Event) => setUnder((event.target as HTMLInputElement).checked)} />
        under the selected recording's profile (else the scenario's own; root switches THP, mTHP, swap and hugetlb for the run)</label>
    </div>
    <div class="row nowrap"><span class="muted label">this host</span> <${ProfileChips} profile=${data.live.profile} host=${null} testid="host-profile" /></div>
    ${live.status === 'error' ? html`<div class="error" data-testid="kernel-run-error">${live.error}</div>` : null}
    ${live.status === 'done' && live.recording.results === null ? html`<div class="error" data-testid="kernel-run-error">the kernel runner skipped it: ${live.recording.skipped}</div>` : null}
  </div>`;
}

function DiffView(props: DiffProps) {
  const { data, edited, recordings, choice, onChoose, target, explorer, diff, live, onJump, sourceOps } = props;
  const host = data.live?.available === true ? data.live.profile : null;
  const liveRecordingDone = live.status === 'done' ? live.recording : null;
  const picker = html`<div class="row">
    <label>diff against <select data-testid="recording-pick" value=${String(choice)} onChange=${(event: Event) => { const value = (event.target as HTMLSelectElement).value; onChoose(value === 'live' ? 'live' : Number(value)); }}>
      ${edited ? null : recordings.map((recording, i) => html`<option value=${String(i)}>${recordingLabel(recording)}${recording.profile !== null && host !== null && profileDifferences(recording.profile, host).length === 0 ? ' (this host\'s configuration)' : ''}${recording.results === null ? ' (skipped)' : ''}</option>`)}
      ${liveRecordingDone !== null ? html`<option value="live">${recordingLabel(liveRecordingDone)}, run now</option>` : null}
      ${(edited || recordings.length === 0) && liveRecordingDone === null ? html`<option value=${String(choice)}>(no recording)</option>` : null}
    </select></label>
    ${edited && (data.recordings?.length ?? 0) > 0 ? html`<span class="muted">the recordings are of the scenario as written; the edited one can only run on this kernel</span>` : null}
  </div>`;
  let body;
  if (target === null) {
    body = html`<p class="muted">${recordings.length === 0 ? 'No kernel recording next to this scenario (NAME.kernel.json or NAME.TAG.kernel.json).' : 'Pick a recording.'}</p>`;
  } else if (target.results === null || explorer === null || diff === null) {
    body = html`<p class="muted">${target.file}: the kernel skipped it (${target.skipped}).</p>`;
  } else {
    const { simulator, kernel, first } = diff;
    const firstOp = first === null ? undefined : explorer.scenario.ops[first.opIndex];
    const rows = first === null ? null : regionRows(firstOp, simulator[first.opIndex], kernel[first.opIndex], explorer.arenaPages);
    body = html`
      <p data-testid="diff-summary">${first === null
        ? html`<span class="ok">The simulator matches the kernel on every op.</span>`
        : html`<span class="bad" data-testid="diff-first">First difference at op ${first.opIndex}: ${opLabel(sourceOps[first.opIndex] ?? (firstOp as unknown as Record<string, unknown>))}, field ${first.field}</span>
            <button onClick=${() => onJump(first.opIndex)}>show op ${first.opIndex} on the map</button>`}
        <span class="muted"> (the simulator runs under the recording's profile)</span></p>
      ${first !== null
        ? html`<div class="first-values"><div><b>simulator</b> <code>${short(first.actual)}</code></div><div><b>kernel</b> <code>${short(first.expected)}</code></div></div>`
        : null}
      ${rows !== null ? html`<${RegionRows} rows=${rows} />` : null}
      <table class="diff-table"><tr><th>#</th><th>op</th><th>simulator</th><th>kernel</th></tr>
        ${explorer.scenario.ops.map((op, i) => {
          const same = short(simulator[i]) === short(kernel[i]);
          return html`<tr class=${`${same ? '' : 'differs'} ${first?.opIndex === i ? 'first' : ''}`} data-diff-op=${i}><td>${i}</td><td>${opLabel(sourceOps[i] ?? (op as unknown as Record<string, unknown>))}</td><td>${resultLabel(simulator[i])}</td><td>${same ? html`<span class="muted">same</span>` : resultLabel(kernel[i])}</td></tr>`;
        })}
      </table>`;
  }
  return html`<div class="panel diff" data-testid="diff">
    <h2>Kernel diff${target !== null ? `: ${target.file}` : ''}</h2>
    ${picker}
    ${target?.profile != null ? html`<div class="row nowrap"><span class="muted label">${target.tag === 'live' ? 'ran under' : 'recorded under'}</span> <${ProfileChips} profile=${target.profile} host=${host} testid="recording-profile" /></div>` : null}
    <${LivePanel} data=${data} live=${live} target=${target} onRunLive=${props.onRunLive} />
    ${body}
  </div>`;
}

function Playground({ text, onRun }: { text: string; onRun: (text: string) => string | null }) {
  const [draft, setDraft] = useState(text);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setDraft(text), [text]);
  const check = (value: string) => {
    const parsed = parseScenarioText(value);
    setError('error' in parsed ? parsed.error : null);
  };
  return html`<div class="panel playground" data-testid="playground">
    <h2>Playground</h2>
    <textarea spellcheck="false" value=${draft} onInput=${(event: Event) => { const value = (event.target as HTMLTextAreaElement).value; setDraft(value); check(value); }}></textarea>
    ${error !== null ? html`<div class="error" data-testid="playground-error">${error}</div>` : html`<div class="ok">valid scenario</div>`}
    <button data-testid="playground-run" disabled=${error !== null} onClick=${() => setError(onRun(draft))}>re-run</button>
  </div>`;
}

function App({ data }: { data: ReportData }) {
  const [scenarioText, setScenarioText] = useState(data.scenarioText);
  const [fatal, setFatal] = useState<string | null>(null);
  const [edited, setEdited] = useState(false);
  const explorer = useMemo(() => {
    try {
      const scenario = parseScenario(scenarioText, data.file);
      return new ScenarioExplorer(scenario);
    } catch (error) {
      setFatal(scenarioErrorLine(error));
      return null;
    }
  }, [scenarioText]);
  // Every recording of the file, each with the scenario under its profile (not for an edited scenario).
  const recordings = useMemo(() => {
    if (edited || explorer === null) return [];
    try {
      return prepareRecordings(explorer.scenario, data.recordings);
    } catch {
      return [];
    }
  }, [explorer, edited]);
  const host = data.live?.available === true ? data.live.profile : null;
  const [choice, setChoice] = useState<number | 'live'>(() => (edited ? 'live' : defaultRecordingIndex(recordings, host)));
  const [live, setLive] = useState<LiveState>({ status: 'idle' });
  const target = choice === 'live' ? (live.status === 'done' ? live.recording : null) : (recordings[choice] ?? null);
  const recordingExplorer = useMemo(
    () => (target !== null && target.results !== null ? new ScenarioExplorer(target.scenario, { categories: false }) : null),
    [target],
  );
  const kernelDiff = useMemo(() => (recordingExplorer !== null && target?.results != null ? recordingExplorer.diff(target.results) : null), [recordingExplorer, target]);
  const runLive = async (underRecording: boolean) => {
    if (data.live?.available !== true || explorer === null) return;
    const scenario = explorer.scenario;
    setLive({ status: 'running' });
    try {
      const response = await fetch(data.live.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ scenario: scenarioText, profile: underRecording && target !== null ? target.profile : null }),
      });
      const answer = (await response.json()) as { error?: string; results?: OpResult[]; profile?: RecordingProfile; skipped?: string };
      if (!response.ok || answer.error !== undefined) {
        setLive({ status: 'error', error: answer.error ?? `HTTP ${response.status}` });
        return;
      }
      setLive({ status: 'done', recording: liveRecording(scenario, answer as Parameters<typeof liveRecording>[1]) });
      setChoice('live');
    } catch (error) {
      setLive({ status: 'error', error: scenarioErrorLine(error) });
    }
  };
  const opCount = explorer?.scenario.ops.length ?? 0;
  // The ops as written in the file (the parsed ones carry every default).
  const sourceOps = useMemo(() => {
    try {
      return (JSON.parse(scenarioText) as { ops: Record<string, unknown>[] }).ops;
    } catch {
      return [];
    }
  }, [scenarioText]);
  const [index, setIndex] = useState(opCount - 1);
  const [selected, setSelected] = useState(-1);
  const [pinned, setPinned] = useState(false);
  const [category, setCategory] = useState(-1);
  const [highlight, setHighlight] = useState<{ start: number; end: number } | null>(null);
  const [tab, setTab] = useState<'trace' | 'diff' | 'playground'>('trace');
  const stepMs = useRef(0);
  const clamp = (next: number) => Math.max(-1, Math.min(opCount - 1, next));
  const go = (next: number) => {
    stepMs.current = performance.now();
    setIndex(clamp(next));
  };
  const step = (delta: number) => {
    stepMs.current = performance.now();
    setIndex((current) => clamp(current + delta));
  };
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      if (target !== null && (target.tagName === 'TEXTAREA' || target.tagName === 'INPUT' || target.tagName === 'SELECT')) return;
      if (event.key === 'ArrowDown' || event.key === 'ArrowRight' || event.key === 'j') { event.preventDefault(); step(1); }
      if (event.key === 'ArrowUp' || event.key === 'ArrowLeft' || event.key === 'k') { event.preventDefault(); step(-1); }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [opCount]);
  const tree = useMemo(() => (explorer !== null && selected >= 0 ? explorer.tree(index, selected) : null), [explorer, index, selected]);
  useEffect(() => {
    const api = window as unknown as { __pagewalk?: Record<string, unknown> };
    api.__pagewalk = {
      explorer,
      index,
      selected,
      stepMs: stepMs.current === 0 ? 0 : performance.now() - stepMs.current,
      cellCenter: (page: number) => {
        const map = (window as unknown as { __pagewalkMap?: { layout: MapLayout } }).__pagewalkMap;
        return map === undefined ? null : cellCenter(map.layout, page);
      },
    };
    document.body.dataset.index = String(index);
  });
  if (explorer === null) return html`<div class="fatal">${fatal}</div>`;
  const rerun = (text: string): string | null => {
    const parsed = parseScenarioText(text, data.file);
    if ('error' in parsed) return parsed.error;
    setEdited(true);
    setScenarioText(text);
    setLive({ status: 'idle' });
    setChoice('live');
    setIndex(parsed.scenario.ops.length - 1);
    return null;
  };
  const snapshot = explorer.snapshot(index);
  return html`<div class="app">
    <header>
      <h1>pagewalk explore <span class="muted">${explorer.scenario.name} (${data.file}) — ${explorer.arenaPages} pages, ${opCount} ops, simulated in ${explorer.runMs.toFixed(0)} ms</span></h1>
      ${explorer.skipReason !== null ? html`<div class="error">The CLI skips this scenario: ${explorer.skipReason}</div>` : null}
    </header>
    <div class="columns">
      <div class="panel timeline" data-testid="timeline">
        <h2>Ops <span class="muted">(click, ↑/↓)</span></h2>
        <ol start="0">
          <li class=${index === -1 ? 'current' : ''} onClick=${() => go(-1)} value="0" data-op="-1"><span class="op">(empty arena)</span></li>
          ${explorer.scenario.ops.map(
            (op, i) => html`<li class=${`${index === i ? 'current' : ''}${i > index ? ' future' : ''}`} onClick=${() => go(i)} data-op=${i} value=${i + 1}>
              <span class="n">${i}</span>${kernelDiff?.first?.opIndex === i ? html`<span class="kernel-mark" title="first difference from the kernel">≠ kernel</span> ` : null}<span class="op">${opLabel(sourceOps[i] ?? (op as unknown as Record<string, unknown>))}</span>
              <span class="result">${resultLabel(explorer.results[i])}</span>
            </li>`,
          )}
        </ol>
      </div>
      <div class="main">
        <div class="panel">
          <h2>Address space after ${index < 0 ? 'no op' : `op ${index}`}</h2>
          <${VmaBands} vmas=${snapshot.vmas} pages=${explorer.arenaPages} selected=${selected} onSelect=${(page: number) => { setSelected(page); setPinned(true); }} />
          <div class="row">
            <label>colour by <select data-testid="colour-by" value=${category} onChange=${(event: Event) => setCategory(Number((event.target as HTMLSelectElement).value))}>
              <option value="-1">entry kind</option>
              ${snapshot.categories !== null ? CATEGORY_NAMES.map((name, bit) => html`<option value=${bit}>PAGEMAP_SCAN category: ${name}</option>`) : null}
            </select></label>
            ${pinned ? html`<button onClick=${() => setPinned(false)}>unpin page ${selected}</button>` : null}
          </div>
          <${Legend} category=${category} />
          <${MapView} explorer=${explorer} index=${index} category=${category} highlight=${highlight} selected=${selected}
            onHover=${(page: number) => { if (!pinned) setSelected(page); }} onSelect=${(page: number) => { setSelected(page); setPinned(true); }} />
          <${CellInfo} explorer=${explorer} index=${index} page=${selected} />
          <${WhyPanel} explorer=${explorer} index=${index} page=${selected} pinned=${pinned} />
        </div>
        <${TreeView} tree=${tree} page=${selected} />
        <div class="tabs">
          <button class=${tab === 'trace' ? 'on' : ''} onClick=${() => setTab('trace')}>walk trace</button>
          <button class=${tab === 'diff' ? 'on' : ''} onClick=${() => setTab('diff')} data-testid="tab-diff">kernel diff</button>
          <button class=${tab === 'playground' ? 'on' : ''} onClick=${() => setTab('playground')} data-testid="tab-playground">playground</button>
        </div>
        ${tab === 'trace' ? html`<${TraceView} explorer=${explorer} index=${index} onHighlight=${setHighlight} />` : null}
        ${tab === 'diff'
          ? html`<${DiffView} data=${data} edited=${edited} recordings=${recordings} choice=${choice} onChoose=${setChoice} target=${target} explorer=${recordingExplorer}
              diff=${kernelDiff} live=${live} onRunLive=${runLive} onJump=${(op: number) => go(op)} sourceOps=${sourceOps} />`
          : null}
        ${tab === 'playground' ? html`<${Playground} text=${scenarioText} onRun=${rerun} />` : null}
      </div>
    </div>
  </div>`;
}

const style = document.createElement('style');
style.textContent = STYLES;
document.head.appendChild(style);
const root = document.getElementById('app') ?? document.body.appendChild(document.createElement('div'));
try {
  render(html`<${App} data=${readData()} />`, root);
} catch (error) {
  root.textContent = scenarioErrorLine(error);
}
