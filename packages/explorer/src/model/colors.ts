// Map colours: one per entry kind (the legend), and a highlight colour for
// the pages that have a chosen PAGEMAP_SCAN category.
import { PageKind } from './classify.js';

export const KIND_COLORS: readonly (readonly [number, number, number])[] = [];
const set = (kind: PageKind, hex: number): void => {
  (KIND_COLORS as [number, number, number][])[kind] = [(hex >> 16) & 255, (hex >> 8) & 255, hex & 255];
};
set(PageKind.Unmapped, 0x1b1f24);
set(PageKind.None, 0x3a4350);
set(PageKind.Anon, 0x2ea44f);
set(PageKind.File, 0x1f78d1);
set(PageKind.Zero, 0xe8e8e8);
set(PageKind.Thp, 0x8a3ffc);
set(PageKind.HugeZero, 0xc8b6ff);
set(PageKind.Hugetlb, 0xd4a72c);
set(PageKind.Swapped, 0xf08c00);
set(PageKind.Guard, 0xe5383b);
set(PageKind.UffdWpMarker, 0x00b8d9);
set(PageKind.DevicePrivate, 0xff6ad5);
set(PageKind.DeviceExclusive, 0xb5179e);
set(PageKind.Migration, 0xffd60a);
set(PageKind.Other, 0x7f5539);

/** Pages that have the chosen category; the rest are drawn dim. */
export const CATEGORY_COLOR: readonly [number, number, number] = [255, 200, 0];
const DIM: readonly [number, number, number] = [45, 50, 58];

export const hexColor = ([r, g, b]: readonly [number, number, number]): string => `#${((1 << 24) | (r << 16) | (g << 8) | b).toString(16).slice(1)}`;

/**
 * The colour of a page: by entry kind, or, with `category` >= 0, whether
 * its PAGEMAP_SCAN categories include that bit.
 */
export function colorOfPage(kind: number, categories: number, category: number): readonly [number, number, number] {
  if (category < 0) return KIND_COLORS[kind] ?? KIND_COLORS[PageKind.Other]!;
  if (kind === PageKind.Unmapped) return KIND_COLORS[PageKind.Unmapped]!;
  return (categories & (1 << category)) !== 0 ? CATEGORY_COLOR : DIM;
}
