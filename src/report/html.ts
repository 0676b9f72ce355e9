/**
 * A self-contained HTML page (no script, style or font from the network) with inline SVG bar charts,
 * tables and copyable code blocks; light and dark by the reader's colour scheme.
 */

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export interface ChartSeries {
  readonly name: string;
  /** One value per category; undefined draws nothing for that category. */
  readonly values: readonly (number | undefined)[];
}

export interface BarChart {
  readonly kind: 'chart';
  readonly id: string;
  readonly title: string;
  readonly categories: readonly string[];
  readonly series: readonly ChartSeries[];
  readonly format: (value: number) => string;
}

export interface Table {
  readonly kind: 'table';
  readonly title: string;
  readonly head: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

export interface CodeBlocks {
  readonly kind: 'code';
  readonly title: string;
  readonly blocks: readonly { readonly label: string; readonly text: string }[];
}

export interface Paragraph {
  readonly kind: 'text';
  readonly text: string;
}

export type Section = BarChart | Table | CodeBlocks | Paragraph;

const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#b07aa1'];

function chart(c: BarChart): string {
  const rowHeight = 14 * Math.max(1, c.series.length) + 10;
  const label = 220;
  const width = 760;
  const plot = width - label - 90;
  const max = Math.max(1, ...c.series.flatMap((s) => s.values.filter((v): v is number => v !== undefined && Number.isFinite(v))));
  const height = c.categories.length * rowHeight + 30;
  const bars = c.series
    .map((s, si) => {
      const colour = PALETTE[si % PALETTE.length] ?? '#888';
      const rects = s.values
        .map((v, ci) => {
          if (v === undefined || !Number.isFinite(v)) return '';
          const y = ci * rowHeight + 5 + si * 14;
          const w = Math.max(1, (Math.max(0, v) / max) * plot);
          return `<rect class="point" data-category="${escapeHtml(c.categories[ci] ?? '')}" data-value="${v}" x="${label}" y="${y}" width="${w.toFixed(1)}" height="12" fill="${colour}"><title>${escapeHtml(`${c.categories[ci]} ${s.name}: ${c.format(v)}`)}</title></rect><text class="value" x="${(label + w + 4).toFixed(1)}" y="${y + 10}">${escapeHtml(c.format(v))}</text>`;
        })
        .join('');
      return `<g class="series" data-series="${escapeHtml(s.name)}">${rects}</g>`;
    })
    .join('');
  const labels = c.categories.map((name, ci) => `<text class="category" x="${label - 6}" y="${ci * rowHeight + 5 + (rowHeight - 10) / 2 + 4}" text-anchor="end">${escapeHtml(name)}</text>`).join('');
  const legend = c.series
    .map((s, si) => `<span class="key"><span class="swatch" style="background:${PALETTE[si % PALETTE.length] ?? '#888'}"></span>${escapeHtml(s.name)}</span>`)
    .join(' ');
  return `<section class="chart" id="${escapeHtml(c.id)}"><h2>${escapeHtml(c.title)}</h2><div class="legend">${legend}</div>
<svg role="img" aria-label="${escapeHtml(c.title)}" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMinYMin meet">${labels}${bars}</svg></section>`;
}

function table(t: Table): string {
  const head = t.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const rows = t.rows.map((r) => `<tr>${r.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`).join('\n');
  return `<section><h2>${escapeHtml(t.title)}</h2><div class="scroll"><table><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table></div></section>`;
}

function code(c: CodeBlocks): string {
  const blocks = c.blocks
    .map(
      (b, i) =>
        `<figure class="code"><figcaption>${escapeHtml(b.label)} <button type="button" class="copy" data-target="code-${i}">Copy</button></figcaption><pre id="code-${i}">${escapeHtml(b.text)}</pre></figure>`,
    )
    .join('\n');
  return `<section><h2>${escapeHtml(c.title)}</h2>${c.blocks.length > 0 ? blocks : '<p>None.</p>'}</section>`;
}

const STYLE = `:root{color-scheme:light dark;--bg:#ffffff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--code:#f6f8fa}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--code:#151b23}}
body{background:var(--bg);color:var(--fg);font:14px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}.meta{color:var(--muted)}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid var(--line);padding:.3rem .5rem;text-align:left;white-space:nowrap}
.scroll{overflow-x:auto}svg text{fill:var(--fg);font-size:11px}svg text.value{fill:var(--muted)}
.legend{margin:.3rem 0}.key{margin-right:1rem}.swatch{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}
pre{background:var(--code);border:1px solid var(--line);padding:.8rem;overflow-x:auto}figure{margin:1rem 0}
button.copy{font:inherit;margin-left:.5rem;padding:.1rem .6rem;border:1px solid var(--line);background:var(--code);color:var(--fg);border-radius:4px;cursor:pointer}`;

// Copies the text of a code block; falls back to selecting it where the clipboard API is not offered (file:// in some browsers).
const SCRIPT = `document.addEventListener('click',function(e){var b=e.target;if(!(b instanceof HTMLButtonElement)||!b.classList.contains('copy'))return;
var pre=document.getElementById(b.dataset.target||'');if(!pre)return;var text=pre.textContent||'';
var done=function(){b.textContent='Copied';setTimeout(function(){b.textContent='Copy';},1500);};
var select=function(){var r=document.createRange();r.selectNodeContents(pre);var s=window.getSelection();if(s){s.removeAllRanges();s.addRange(r);}b.textContent='Selected: press Ctrl+C';};
if(navigator.clipboard&&window.isSecureContext){navigator.clipboard.writeText(text).then(done,select);}else{select();}});`;

/** The whole page. */
export function renderPage(title: string, meta: string, sections: readonly Section[]): string {
  const body = sections
    .map((s) => (s.kind === 'chart' ? chart(s) : s.kind === 'table' ? table(s) : s.kind === 'code' ? code(s) : `<p>${escapeHtml(s.text)}</p>`))
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(title)}</h1><p class="meta">${escapeHtml(meta)}</p>
${body}
<script>${SCRIPT}</script></body></html>
`;
}
