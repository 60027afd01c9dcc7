/** HTML building blocks of the report: escaping, number formats, tables, figures, notes, the page shell. */

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export function percent(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined || !Number.isFinite(value)
    ? '—'
    : `${(value * 100).toFixed(digits)} %`;
}

export function number(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return Math.abs(value) >= 1e4 || (Math.abs(value) < 1e-2 && value !== 0)
    ? value.toExponential(3)
    : value.toFixed(3);
}

export function seconds(value: number): string {
  if (value < 90) return `${value.toFixed(1)} s`;
  if (value < 5400) return `${(value / 60).toFixed(1)} min`;
  return `${(value / 3600).toFixed(2)} h`;
}

/** A table cell: text already escaped by the caller when `html` is true. */
export interface Cell {
  text: string;
  html?: boolean;
  /** Machine-readable value (data-value), so tests and scripts read numbers, not formatted text. */
  value?: string | number;
}

export function table(
  headers: string[],
  rows: Array<{ cells: Array<Cell | string>; attributes?: Record<string, string> }>,
  attributes: Record<string, string> = {},
): string {
  const attrs = (map: Record<string, string>) =>
    Object.entries(map)
      .map(([name, value]) => ` ${name}="${escapeHtml(value)}"`)
      .join('');
  const cell = (c: Cell | string) => {
    const item = typeof c === 'string' ? { text: c } : c;
    const value = item.value === undefined ? '' : ` data-value="${escapeHtml(String(item.value))}"`;
    return `<td${value}>${item.html ? item.text : escapeHtml(item.text)}</td>`;
  };
  return [
    `<table${attrs(attributes)}>`,
    `<thead><tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>`,
    '<tbody>',
    ...rows.map((row) => `<tr${attrs(row.attributes ?? {})}>${row.cells.map(cell).join('')}</tr>`),
    '</tbody></table>',
  ].join('\n');
}

export function figure(id: string, svg: string, caption: string): string {
  return `<figure class="plot" data-plot="${escapeHtml(id)}">\n${svg}\n<figcaption>${escapeHtml(caption)}</figcaption>\n</figure>`;
}

/** A visible note that something was not recorded (older runs) or does not apply. */
export function note(text: string): string {
  return `<p class="note">${escapeHtml(text)}</p>`;
}

export function section(id: string, title: string, body: string[]): string {
  return `<section id="${escapeHtml(id)}">\n<h2>${escapeHtml(title)}</h2>\n${body.join('\n')}\n</section>`;
}

const STYLE = `
body { font-family: sans-serif; margin: 0 auto; max-width: 1200px; padding: 1rem 2rem; color: #222; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2rem; margin-top: 2rem; }
nav a { margin-right: 0.8rem; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.85rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: right; vertical-align: top; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
td.text { text-align: left; }
figure.plot { display: inline-block; margin: 0.5rem 1rem 1rem 0; vertical-align: top; }
figcaption { font-size: 0.8rem; color: #555; max-width: 560px; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 0.4rem 0.8rem; font-size: 0.9rem; }
pre { background: #f7f7f7; padding: 0.8rem; overflow-x: auto; font-size: 0.8rem; }
.muted { color: #666; font-size: 0.9rem; }
`;

export function page(
  title: string,
  sections: Array<{ id: string; title: string; html: string }>,
  header: string,
): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // No request of any kind: this policy makes the browser refuse anything the page might still reference.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    header,
    `<nav>${sections.map((s) => `<a href="#${escapeHtml(s.id)}">${escapeHtml(s.title)}</a>`).join('')}</nav>`,
    ...sections.map((s) => s.html),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
