// The address-space map: one canvas, drawn from the snapshot's typed arrays
// into an ImageData (never a DOM node per page). Zoom level z >= 0 draws
// each page as a 2^z px cell; z < 0 packs 2^-z pages into one pixel (the
// most notable kind among them wins).
import { colorOfPage } from '../model/colors.js';
import type { Snapshot } from '../model/explorer.js';

export interface MapLayout {
  readonly width: number;
  /** Cell size in px (1 when pages share a pixel). */
  readonly cell: number;
  /** Pages per pixel column (1 when zoomed in). */
  readonly pagesPerCell: number;
  /** Cells per row. */
  readonly cols: number;
  readonly rows: number;
  /** First row drawn (vertical scroll). */
  readonly firstRow: number;
  readonly visibleRows: number;
  readonly height: number;
}

export const MAP_MAX_HEIGHT = 512;

export function layoutFor(pages: number, width: number, zoom: number, firstRow: number): MapLayout {
  const cell = zoom >= 0 ? 2 ** zoom : 1;
  const pagesPerCell = zoom >= 0 ? 1 : 2 ** -zoom;
  const cols = Math.max(1, Math.floor(width / cell));
  const rows = Math.max(1, Math.ceil(pages / (cols * pagesPerCell)));
  const visibleRows = Math.min(rows, Math.floor(MAP_MAX_HEIGHT / cell));
  const first = Math.max(0, Math.min(firstRow, rows - visibleRows));
  return { width: cols * cell, cell, pagesPerCell, cols, rows, firstRow: first, visibleRows, height: visibleRows * cell };
}

/** The zoom that shows the whole arena. */
export function fitZoom(pages: number, width: number): number {
  for (let zoom = 5; zoom > -12; zoom--) {
    const layout = layoutFor(pages, width, zoom, 0);
    if (layout.rows <= layout.visibleRows) return zoom;
  }
  return -12;
}

/** The page under a canvas point, or -1. */
export function pageAt(layout: MapLayout, pages: number, x: number, y: number): number {
  const col = Math.floor(x / layout.cell);
  const row = Math.floor(y / layout.cell) + layout.firstRow;
  if (col < 0 || col >= layout.cols || row < 0) return -1;
  const page = (row * layout.cols + col) * layout.pagesPerCell;
  return page < pages ? page : -1;
}

/** The centre of a page's cell in canvas px, or null when it is scrolled away. */
export function cellCenter(layout: MapLayout, page: number): { x: number; y: number } | null {
  const index = Math.floor(page / layout.pagesPerCell);
  const row = Math.floor(index / layout.cols) - layout.firstRow;
  if (row < 0 || row >= layout.visibleRows) return null;
  const col = index % layout.cols;
  return { x: col * layout.cell + layout.cell / 2, y: row * layout.cell + layout.cell / 2 };
}

export interface Highlight {
  readonly start: number;
  readonly end: number;
}

/** Draws the map; returns the time it took in ms. */
export function drawMap(
  canvas: HTMLCanvasElement,
  layout: MapLayout,
  snapshot: Snapshot,
  category: number,
  highlight: Highlight | null,
  selected: number,
): number {
  const started = performance.now();
  if (canvas.width !== layout.width || canvas.height !== layout.height) {
    canvas.width = layout.width;
    canvas.height = layout.height;
  }
  const context = canvas.getContext('2d')!;
  const image = context.createImageData(layout.width, layout.height);
  const pixels = new Uint32Array(image.data.buffer);
  const { kinds, categories } = snapshot;
  const pages = kinds.length;
  const { cell, cols, pagesPerCell } = layout;
  // Packed colours per kind (little-endian ABGR), computed once.
  const packed = (rgb: readonly [number, number, number]): number => ((255 << 24) | (rgb[2] << 16) | (rgb[1] << 8) | rgb[0]) >>> 0;
  const kindColors = new Uint32Array(32);
  for (let kind = 0; kind < 32; kind++) kindColors[kind] = packed(colorOfPage(kind, 0, -1));
  const withCategory = category >= 0 && categories !== null;
  const onColor = packed(colorOfPage(2, 1 << Math.max(category, 0), Math.max(category, 0)));
  const offColor = packed(colorOfPage(2, 0, Math.max(category, 0)));
  const unmapped = kindColors[0]!;
  const lo = highlight === null ? -1 : highlight.start;
  const hi = highlight === null ? -1 : highlight.end;
  for (let row = 0; row < layout.visibleRows; row++) {
    const firstIndex = (row + layout.firstRow) * cols;
    for (let col = 0; col < cols; col++) {
      const first = (firstIndex + col) * pagesPerCell;
      if (first >= pages) break;
      let color: number;
      if (pagesPerCell === 1) {
        const kind = kinds[first]!;
        color = withCategory ? (kind === 0 ? unmapped : (categories![first]! & (1 << category)) !== 0 ? onColor : offColor) : kindColors[kind]!;
      } else {
        const last = Math.min(pages, first + pagesPerCell);
        if (withCategory) {
          let any = 0;
          let mapped = 0;
          for (let page = first; page < last; page++) {
            mapped |= kinds[page]!;
            any |= categories![page]!;
          }
          color = mapped === 0 ? unmapped : (any & (1 << category)) !== 0 ? onColor : offColor;
        } else {
          let best = 0;
          for (let page = first; page < last; page++) if (kinds[page]! > best) best = kinds[page]!;
          color = kindColors[best]!;
        }
      }
      if (first < hi && first + pagesPerCell > lo) {
        // Blend with white: the pages the current walk event covers.
        const r = color & 255;
        const g = (color >> 8) & 255;
        const b = (color >> 16) & 255;
        color = ((255 << 24) | (((b + 255) >> 1) << 16) | (((g + 255) >> 1) << 8) | ((r + 255) >> 1)) >>> 0;
      }
      const x0 = col * cell;
      const y0 = row * cell;
      if (cell === 1) {
        pixels[y0 * layout.width + x0] = color;
      } else {
        // Leave a 1px gap between cells once they are big enough to see it.
        const inner = cell >= 4 ? cell - 1 : cell;
        for (let y = 0; y < inner; y++) pixels.fill(color, (y0 + y) * layout.width + x0, (y0 + y) * layout.width + x0 + inner);
      }
    }
  }
  context.putImageData(image, 0, 0);
  if (selected >= 0) {
    const center = cellCenter(layout, selected);
    if (center !== null) {
      context.strokeStyle = '#ffffff';
      context.lineWidth = 1;
      const size = Math.max(cell, 3);
      context.strokeRect(center.x - size / 2 - 0.5, center.y - size / 2 - 0.5, size + 1, size + 1);
    }
  }
  return performance.now() - started;
}
