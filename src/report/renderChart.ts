import sharp from 'sharp';
import type * as Vega from 'vega';
import type { Config, TopLevelSpec } from 'vega-lite';

/** A chart is a vega-lite spec with its data inline; everything about its layout is vega-lite's. */
export type ChartSpec = TopLevelSpec;
/** One layer of a layered chart: a mark with its encoding, or a layer of its own. */
export type ChartLayer = Extract<TopLevelSpec, { layer: unknown }>['layer'][number];
/** One chart of a side-by-side (hconcat) or stacked (vconcat) composition. */
export type ChartPanel = Extract<TopLevelSpec, { hconcat: unknown }>['hconcat'][number];

/** Okabe–Ito: distinct under the common colour-vision deficiencies. Series keep their colour in every chart. */
export const PALETTE = {
  blue: '#0072B2',
  vermillion: '#D55E00',
  green: '#009E73',
  orange: '#E69F00',
  sky: '#56B4E9',
  purple: '#CC79A7',
  grey: '#555555',
  text: '#222222',
  muted: '#555555',
} as const;

/** Fonts that the PNG path (librsvg, through sharp) and browsers both find on a Debian system. */
export const CHART_FONT = 'DejaVu Sans, Arial, Helvetica, sans-serif';

/**
 * The house style, applied under every spec's own `config` (which wins): charts differ in what
 * they show, not in how they look.
 */
export const CHART_CONFIG: Config = {
  font: CHART_FONT,
  background: '#ffffff',
  padding: 8,
  title: { fontSize: 15, fontWeight: 600, color: PALETTE.text, subtitleFontSize: 12, subtitleColor: PALETTE.muted, anchor: 'start', offset: 12 },
  axis: {
    labelFontSize: 11,
    labelColor: PALETTE.muted,
    titleFontSize: 12,
    titleFontWeight: 'normal',
    titleColor: PALETTE.text,
    gridColor: '#e6e6e6',
    domainColor: '#999999',
    tickColor: '#999999',
  },
  header: { labelFontSize: 12, titleFontSize: 12, titleFontWeight: 'normal' },
  legend: { labelFontSize: 12, titleFontSize: 12, titleFontWeight: 'normal', orient: 'bottom', symbolStrokeWidth: 2 },
  view: { stroke: '#cccccc' },
  range: { category: [PALETTE.blue, PALETTE.vermillion, PALETTE.green, PALETTE.orange, PALETTE.sky, PALETTE.purple] },
};

/**
 * Advance widths of DejaVu Sans (the font CHART_FONT resolves to here) for ASCII 32-126, in em,
 * read from the font's hmtx table. vega measures text on a canvas, which Node lacks, and otherwise
 * guesses 0.8 em a character: about 30% wide, which pads charts with blank space and cuts titles
 * short. Bold runs about 10% wider; other characters count as an average glyph.
 */
const DEJAVU_SANS_EM = [
  0.318, 0.401, 0.46, 0.838, 0.636, 0.95, 0.78, 0.275, 0.39, 0.39, 0.5, 0.838, 0.318, 0.361, 0.318, 0.337, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636,
  0.636, 0.636, 0.337, 0.337, 0.838, 0.838, 0.838, 0.531, 1.0, 0.684, 0.686, 0.698, 0.77, 0.632, 0.575, 0.775, 0.752, 0.295, 0.295, 0.656, 0.557, 0.863, 0.748, 0.787,
  0.603, 0.787, 0.695, 0.635, 0.611, 0.732, 0.684, 0.989, 0.685, 0.611, 0.685, 0.39, 0.337, 0.39, 0.838, 0.5, 0.5, 0.613, 0.635, 0.55, 0.635, 0.615, 0.352, 0.635,
  0.634, 0.278, 0.278, 0.579, 0.278, 0.974, 0.634, 0.612, 0.635, 0.635, 0.411, 0.521, 0.392, 0.634, 0.592, 0.818, 0.592, 0.592, 0.525, 0.636, 0.337, 0.636, 0.838,
];
const OTHER_GLYPH_EM = 0.65;
const BOLD_FACTOR = 1.1;

function textWidth(item: { fontSize?: number; fontWeight?: string | number; limit?: number }, text: unknown): number {
  const s = text == null ? '' : String(text).trim();
  let em = 0;
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    em += code >= 32 && code <= 126 ? DEJAVU_SANS_EM[code - 32] : OTHER_GLYPH_EM;
  }
  const weight = item.fontWeight;
  const bold = weight === 'bold' || weight === 'bolder' || Number(weight) >= 600;
  const width = em * (item.fontSize ?? 11) * (bold ? BOLD_FACTOR : 1);
  // vega shortens text to `limit` with an ellipsis; it asks this function for widths both before
  // and after, so a long text measures at most its limit.
  return item.limit && item.limit > 0 ? Math.min(width, item.limit) : width;
}
type TextMetrics = { width: (item: object, text: unknown) => number };
let charting: Promise<{ vega: typeof Vega; compile: typeof import('vega-lite').compile; metrics: TextMetrics }> | undefined;

/** vega and vega-lite take a quarter of a second to load: only what draws a chart pays for them. */
function loadCharting() {
  charting ??= Promise.all([import('vega'), import('vega-lite')]).then(([vega, vl]) => ({
    vega,
    compile: vl.compile,
    // vega exports textMetrics (from vega-scenegraph) for replacing its measure; its typings omit it.
    metrics: (vega as unknown as { textMetrics: TextMetrics }).textMetrics,
  }));
  return charting;
}

/**
 * textMetrics is vega's global: ours is swapped in only while a chart of ours renders (however
 * many at once), so a program's own vega charts measure text as before.
 */
let rendering = 0;
let theirs: TextMetrics['width'] | undefined;
async function withOurTextMetrics<T>(metrics: TextMetrics, render: () => Promise<T>): Promise<T> {
  if (rendering++ === 0) {
    theirs = metrics.width;
    metrics.width = textWidth;
  }
  try {
    return await render();
  } finally {
    if (--rendering === 0) metrics.width = theirs!;
  }
}

/**
 * A chart never reads anything: its data is inline, so rendering it makes no request and needs no
 * network. A spec naming a URL is a bug and fails here; the loader refuses whatever else would
 * load (an image mark's URL), since vega only logs a failed load and draws without it.
 */
function refusingLoader(vega: typeof Vega): Vega.Loader {
  const loader = vega.loader();
  loader.sanitize = (uri: string) => Promise.reject(new Error(`charts load nothing; this one asks for ${uri}`));
  return loader;
}

/** The chart as a standalone SVG document, rendered headlessly (no browser, no canvas). */
export async function renderChartSvg(spec: ChartSpec): Promise<string> {
  const { vega, compile, metrics } = await loadCharting();
  const { spec: compiled } = compile(spec, { config: CHART_CONFIG });
  const remote = compiled.data?.find((d) => 'url' in d);
  if (remote) throw new Error(`chart specs must carry their data inline; data "${remote.name}" asks to load ${JSON.stringify((remote as { url: unknown }).url)}`);
  return withOurTextMetrics(metrics, async () => {
    // 'none': only the scenegraph is built (toSVG serialises it); Error level keeps vega's
    // development warnings off a command's output.
    const view = new vega.View(vega.parse(compiled), { renderer: 'none', loader: refusingLoader(vega), logLevel: vega.Error });
    try {
      return await view.toSVG();
    } finally {
      view.finalize();
    }
  });
}

/**
 * The SVG as PNG, `scale` times its size: 2 keeps it crisp when a page or a slide scales it. The
 * SVG is rendered first, so the two show the same chart.
 */
export async function svgToPng(svg: string, scale = 2): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density: 72 * scale }).png().toBuffer();
}

export async function renderChartPng(spec: ChartSpec, scale = 2): Promise<Buffer> {
  return svgToPng(await renderChartSvg(spec), scale);
}

/**
 * Prefixes every id an SVG defines (clip paths, gradients) and every reference to one, so that
 * several charts inlined into one HTML page cannot pick up each other's definitions: ids share
 * one document-wide namespace there.
 */
export function scopeSvgIds(svg: string, prefix: string): string {
  const ids = new Set([...svg.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]));
  if (ids.size === 0) return svg;
  const scoped = (id: string) => (ids.has(id) ? `${prefix}-${id}` : id);
  return svg
    .replace(/(\sid=")([^"]+)(")/g, (_, a: string, id: string, b: string) => `${a}${scoped(id)}${b}`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${scoped(id)})`)
    .replace(/(href=")#([^"]+)(")/g, (_, a: string, id: string, b: string) => `${a}#${scoped(id)}${b}`);
}
