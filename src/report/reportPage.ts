import { CHART_FONT, PALETTE } from './renderChart.js';

/**
 * What every report page shares: escaping, the fact list and the house style, so the evaluation
 * and data check reports read as one family (same cards, tables, galleries and colours).
 */

/** One row of a `.facts` definition list. */
export function fact(name: string, value: string, cls?: string): string {
  return `<div><dt>${esc(name)}</dt><dd${cls ? ` class="${cls}"` : ''}>${esc(value)}</dd></div>`;
}

/** Text for HTML, attribute values included. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export const REPORT_STYLE = `
:root { color-scheme: light; --text: ${PALETTE.text}; --muted: ${PALETTE.muted}; --line: #dddddd; --card: #f7f7f5; --wrong: ${PALETTE.vermillion}; }
* { box-sizing: border-box; }
body { margin: 0; font-family: ${CHART_FONT}; color: var(--text); background: #ffffff; line-height: 1.45; }
header, main, footer { max-width: 1080px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 28px; }
h1 { font-size: 24px; margin: 0 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 18px; margin: 0 0 12px; }
.sub, .note { color: var(--muted); margin: 0 0 12px; }
.tiles { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0 8px; }
.tiles div { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; min-width: 150px; }
.tiles dt { font-size: 13px; color: var(--muted); }
.tiles dd { margin: 0; font-size: 26px; font-weight: 600; font-variant-numeric: tabular-nums; }
section { margin: 28px 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 16px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 16px 18px; }
.facts { margin: 0; display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; font-size: 14px; }
.facts div { display: contents; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.mono { font-family: 'DejaVu Sans Mono', monospace; font-size: 12.5px; }
.charts { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; margin-bottom: 16px; }
figure { margin: 0; }
.chart svg { display: block; max-width: 100%; height: auto; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 14px; }
caption { text-align: left; font-weight: 600; font-size: 15px; padding-bottom: 8px; }
th, td { padding: 6px 14px; border-bottom: 1px solid var(--line); text-align: right; }
th[scope="row"], thead th:first-child { text-align: left; }
thead th { color: var(--muted); font-weight: normal; }
.gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 14px; }
.mistake { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px; display: flex; flex-direction: column; align-items: center; }
.mistake img, .missing { display: block; max-width: 100%; height: auto; border-radius: 3px; }
.missing { width: 128px; height: 96px; display: flex; align-items: center; justify-content: center; color: var(--muted); font-size: 12px; background: #eeeeee; }
figcaption { display: flex; flex-direction: column; align-items: center; gap: 1px; margin-top: 8px; font-size: 12.5px; text-align: center; width: 100%; }
figcaption .file { font-family: 'DejaVu Sans Mono', monospace; font-size: 11.5px; color: var(--muted); max-width: 100%; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.wrong { color: var(--wrong); }
.whole { color: var(--muted); font-size: 11.5px; }
details ul { font-size: 13px; }
footer { color: var(--muted); font-size: 13px; padding-bottom: 32px; border-top: 1px solid var(--line); padding-top: 12px; }
`;

/** A small image embedded in a report page as a data: URL. */
export interface Thumbnail {
  src: string;
  width: number;
  height: number;
}

/**
 * A report page up to and including <body>: self-contained (its CSP loads nothing: images are
 * data: URLs, styles inline), in the house style plus the page's own `style`.
 */
export function reportHead(title: string, style = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>${esc(title)}</title>
<style>${REPORT_STYLE}${style}</style>
</head>
<body>`;
}

/** An ISO timestamp as reports print it: 2026-11-28 07:39:45 UTC. */
export function reportTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}
