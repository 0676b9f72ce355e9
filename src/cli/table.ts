import { stripVTControlCharacters } from 'node:util';

/**
 * The one table renderer of every command (audit, recommend): left-aligned columns separated by two
 * spaces, kubectl style, widths measured on the visible text so coloured cells line up.
 */

export type Tone = 'red' | 'green' | 'yellow' | 'dim';

/** A cell: plain text, or text with a tone that is painted only when colour is on. */
export type Cell = string | { readonly text: string; readonly tone: Tone };

const SGR: Readonly<Record<Tone, string>> = { red: '\u001b[31m', green: '\u001b[32m', yellow: '\u001b[33m', dim: '\u001b[2m' };
const RESET = '\u001b[0m';

/** Columns a string takes on a terminal: escape codes do not count. */
export function visibleWidth(text: string): number {
  return [...stripVTControlCharacters(text)].length;
}

/**
 * Colour for a stream: never with NO_COLOR set (https://no-color.org: present and not empty); always
 * with FORCE_COLOR set to anything but "0" or "false"; otherwise only on a terminal.
 */
export function colourEnabled(stream: { readonly isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '0' && force !== 'false') return true;
  return stream.isTTY === true;
}

/** The first `shown` items and how many more: `a, b, c and 4 more`. */
export function shortList(items: readonly string[], shown = 5): string {
  return items.length > shown ? `${items.slice(0, shown).join(', ')} and ${items.length - shown} more` : items.join(', ');
}

/** A count for people: `1 workload`, `3 workloads`. */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** `text` in `tone` when `colour`, else unchanged. */
export function paint(text: string, tone: Tone, colour: boolean): string {
  return colour ? `${SGR[tone]}${text}${RESET}` : text;
}

/**
 * The table as lines ending in a newline; the last column is not padded and no line has trailing blanks.
 *
 * @example renderTable(['A', 'B'], [['x', { text: 'yy', tone: 'red' }]], { colour: false }) // "A  B\nx  yy\n"
 */
export function renderTable(header: readonly string[], rows: readonly (readonly Cell[])[], options: { readonly colour: boolean } = { colour: false }): string {
  const text = (cell: Cell | undefined): string => (cell === undefined ? '' : typeof cell === 'string' ? cell : cell.text);
  const columns = Math.max(header.length, ...rows.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(visibleWidth(header[i] ?? ''), ...rows.map((row) => visibleWidth(text(row[i])))));
  const line = (cells: readonly Cell[]): string =>
    Array.from({ length: cells.length }, (_, i) => {
      const cell = cells[i];
      const plain = text(cell);
      const shown = typeof cell === 'object' ? paint(plain, cell.tone, options.colour) : plain;
      const pad = i === cells.length - 1 ? 0 : (widths[i] ?? 0) - visibleWidth(plain);
      return shown + ' '.repeat(Math.max(0, pad));
    })
      .join('  ')
      .trimEnd();
  return `${[header, ...rows].map(line).join('\n')}\n`;
}
