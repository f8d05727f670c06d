import { basename, join, resolve } from 'node:path';
import sharp from 'sharp';
import { mapConcurrent } from '../base/mapConcurrent.js';
import { packageRoot } from '../base/packageRoot.js';
import type { ImageAttributes, NearDuplicateGroup, Shortcut } from '../data/auditTypes.js';
import type { CleanProblem } from '../data/cleanDataset.js';
import { DEFAULT_IMAGE_LIMITS } from '../input/imageLimits.js';
import { MIN_IMAGES_PER_CLASS } from '../data/shortcutAudit.js';
import { countProblems, describeProblemKind, formatProblemCounts } from '../data/problemKinds.js';
import { attributeHistogramSpec, categoryMixSpec, classShareSpec, type HistogramAxis } from './cleanCharts.js';
import { renderChartSvg, scopeSvgIds, type ChartSpec } from './renderChart.js';
import { CLEAN_REPORT_FORMAT, claimReportOutput, DEFAULT_REPORT_FOLDER, REPORT_HTML, REPORT_JSON, writeReportFiles, type ReportFolderOptions } from './reportOutput.js';
import { esc, reportHead, reportTime, type Thumbnail } from './reportPage.js';

/** What `clean` found, as the data check report takes it. */
export interface CleanReportInput {
  /** The dataset folder; files are relative to it. */
  root: string;
  /** Files looked at, and how many of them are usable. */
  total: number;
  ok: number;
  problems: CleanProblem[];
  nearDuplicates: NearDuplicateGroup[];
  /** Every usable image's attributes (see imageAttributes), with its class folder and split. */
  attributes: { file: string; label: string; split?: string; attributes: ImageAttributes }[];
  /** auditShortcuts' findings over `attributes`. */
  shortcuts: Shortcut[];
}

export interface CleanReportOptions extends ReportFolderOptions {
  /** Longest side of a near-duplicate thumbnail, in pixels. */
  thumbnailSize?: number;
  /** Near-duplicate groups shown on the page (conflicts and leaks first); report.json holds them all. */
  maxGroups?: number;
  /** Images shown per group. */
  maxPerGroup?: number;
}

export const DEFAULT_CLEAN_REPORT_OPTIONS = {
  thumbnailSize: 128,
  maxGroups: 60,
  maxPerGroup: 12,
  ...DEFAULT_REPORT_FOLDER,
} satisfies Required<CleanReportOptions>;

/** ImageAttributes as JSON holds them: a figure that could not be measured (NaN) is null. */
export type ReportedAttributes = { [K in keyof ImageAttributes]: ImageAttributes[K] extends number ? number | null : ImageAttributes[K] };

export type ReportedGroup = Omit<NearDuplicateGroup, 'splits'> & { splits: (string | null)[] };

/** Each class at a glance: the figures the attribute charts show, as numbers. */
export interface ClassSummary {
  label: string;
  images: number;
  /** Shares of the class's images. */
  grayscale: number;
  /** With at least BORDER_SHOWN of their area in flat edge bands. */
  bordered: number;
  /** Images per file format. */
  formats: Record<string, number>;
  /** Medians over the images that have the figure; null when none has. */
  median: { colourfulness: number | null; brightness: number | null; contrast: number | null; aspect: number | null; width: number | null; height: number | null; jpegQuality: number | null };
}

/** report.json: everything report.html shows, as data (images are referenced by path, not embedded). */
export interface CleanReportData {
  format: typeof CLEAN_REPORT_FORMAT;
  formatVersion: 1;
  createdAt: string;
  generator: string;
  data: { path: string; total: number; ok: number; problems: number; classes: { label: string; images: number }[] };
  shortcuts: Shortcut[];
  perClass: ClassSummary[];
  /** As clean found them; a split is null for class folders (JSON has no undefined). */
  nearDuplicates: ReportedGroup[];
  problems: CleanReportInput['problems'];
  images: { file: string; label: string; split?: string; attributes: ReportedAttributes }[];
}

/** A border this wide (share of the area) is a frame or letterbox, not a flat strip of sky. */
const BORDER_SHOWN = 0.05;

/** The report's content, from clean's findings alone (no image is read). */
export function buildCleanReportData(input: CleanReportInput, now = new Date()): CleanReportData {
  const classes = [...new Set(input.attributes.map((a) => a.label))].sort();
  const images = input.attributes.map((a) => ({
    file: a.file,
    label: a.label,
    ...(a.split === undefined ? {} : { split: a.split }),
    attributes: Object.fromEntries(Object.entries(a.attributes).map(([k, v]) => [k, typeof v === 'number' && !Number.isFinite(v) ? null : v])) as ReportedAttributes,
  }));
  const perClass = classes.map((label): ClassSummary => {
    const mine = images.filter((i) => i.label === label).map((i) => i.attributes);
    const formats: Record<string, number> = {};
    for (const a of mine) formats[a.format] = (formats[a.format] ?? 0) + 1;
    const med = (key: keyof ClassSummary['median']) => median(mine.map((a) => a[key]).filter((v): v is number => typeof v === 'number'));
    return {
      label,
      images: mine.length,
      grayscale: share(mine, (a) => a.grayscale),
      bordered: share(mine, (a) => (a.border ?? 0) >= BORDER_SHOWN),
      formats,
      median: { colourfulness: med('colourfulness'), brightness: med('brightness'), contrast: med('contrast'), aspect: med('aspect'), width: med('width'), height: med('height'), jpegQuality: med('jpegQuality') },
    };
  });
  return {
    format: CLEAN_REPORT_FORMAT,
    formatVersion: 1,
    createdAt: now.toISOString(),
    generator: `happysad ${packageRoot().version}`,
    data: { path: resolve(input.root), total: input.total, ok: input.ok, problems: input.problems.length, classes: perClass.map((c) => ({ label: c.label, images: c.images })) },
    shortcuts: input.shortcuts,
    perClass,
    nearDuplicates: input.nearDuplicates.map((g) => ({ ...g, splits: g.splits.map((x) => x ?? null) })),
    problems: input.problems,
    images,
  };
}

/**
 * Writes OUT/report.html (one self-contained page: charts as inline SVG, thumbnails as data: URLs,
 * no script, nothing fetched) and OUT/report.json (the same content as data). OUT must be new,
 * empty, or a data check report written earlier, which is replaced whole; see claimReportOutput.
 * Call it (or claimReportOutput with CLEAN_REPORT_FORMAT) before the long work, so a folder that
 * will be refused is refused first.
 */
export async function writeCleanReport(input: CleanReportInput, outDir: string, options: CleanReportOptions = {}): Promise<{ dir: string; html: string; json: string; replaced: boolean }> {
  const o = { ...DEFAULT_CLEAN_REPORT_OPTIONS, ...options };
  const claim = await claimReportOutput(outDir, { inputs: [input.root, ...o.inputs], flag: o.flag, format: CLEAN_REPORT_FORMAT });
  const data = buildCleanReportData(input);
  const html = await renderCleanReportHtml(data, { ...o, root: input.root });
  await writeReportFiles(claim, { [REPORT_HTML]: html, [REPORT_JSON]: `${JSON.stringify(data, null, 2)}\n` }, o.flag, CLEAN_REPORT_FORMAT);
  return { dir: claim.dir, html: join(claim.dir, REPORT_HTML), json: join(claim.dir, REPORT_JSON), replaced: claim.replaces };
}

/** The attribute charts' axes. Size axes follow the data (a few huge photos should not squash the rest). */
function histogramAxes(images: CleanReportData['images']): [keyof ImageAttributes, HistogramAxis][] {
  const sized = (key: 'width' | 'height', title: string): HistogramAxis => {
    const values = images.map((i) => i.attributes[key]).filter((v): v is number => v !== null).sort((a, b) => a - b);
    const top = values.length ? values[Math.min(values.length - 1, Math.floor(0.98 * values.length))] : 1000;
    const step = niceStep(top / 20);
    return { title, axisTitle: 'Pixels', extent: [0, Math.max(step, Math.ceil(top / step) * step)], step, format: 'd' };
  };
  return [
    ['colourfulness', { title: 'Colourfulness', axisTitle: 'Mean chroma (0 = gray)', extent: [0, 0.5], step: 0.025 }],
    ['brightness', { title: 'Brightness', axisTitle: 'Mean luma (0 = black, 1 = white)', extent: [0, 1], step: 0.05 }],
    ['contrast', { title: 'Contrast', axisTitle: 'Spread of luma (standard deviation)', extent: [0, 0.4], step: 0.02 }],
    ['border', { title: 'Border', axisTitle: 'Share of the area in flat edge bands', extent: [0, 1], step: 0.05, format: '.0%' }],
    ['aspect', { title: 'Aspect ratio', axisTitle: 'Width / height', extent: [0, 3], step: 0.1 }],
    ['jpegQuality', { title: 'JPEG quality', axisTitle: 'Estimated quality (1–100)', extent: [0, 100], step: 5, format: 'd', ticks: [0, 20, 40, 60, 80, 100], note: 'JPEGs only' }],
    ['width', sized('width', 'Width')],
    ['height', sized('height', 'Height')],
  ];
}

/** The page: charts rendered from the data, near-duplicate thumbnails read from the dataset at `root`. */
export async function renderCleanReportHtml(data: CleanReportData, options: { root: string; thumbnailSize?: number; maxGroups?: number; maxPerGroup?: number }): Promise<string> {
  const o = { ...DEFAULT_CLEAN_REPORT_OPTIONS, ...options };
  const classes = data.perClass.map((c) => c.label);
  const chart = async (id: string, spec: ChartSpec) => `<figure class="chart" id="${id}">${scopeSvgIds(await renderChartSvg(spec), id)}</figure>`;
  const charts: string[] = [];
  if (data.images.length) {
    charts.push(await chart('chart-grayscale', classShareSpec(data.perClass.map((c) => ({ label: c.label, yes: Math.round(c.grayscale * c.images), total: c.images })), classes, 'Grayscale images', 'share of each class that is gray or near-gray')));
    const formats = data.perClass.flatMap((c) => Object.entries(c.formats).map(([value, images]) => ({ label: c.label, value: value.toUpperCase(), images })));
    charts.push(await chart('chart-format', categoryMixSpec(formats, classes, 'File format', 'share of each class in each format')));
    for (const [key, axis] of histogramAxes(data.images)) {
      const values = data.images.flatMap((i) => (typeof i.attributes[key] === 'number' ? [{ label: i.label, value: i.attributes[key] as number }] : []));
      if (values.length) charts.push(await chart(`chart-${key}`, attributeHistogramSpec(values, classes, axis)));
    }
  }

  const groups = [...data.nearDuplicates].sort((a, b) => Number(b.conflictingLabels) - Number(a.conflictingLabels) || Number(b.leak) - Number(a.leak) || b.files.length - a.files.length || (a.files[0] < b.files[0] ? -1 : 1));
  const shown = groups.slice(0, o.maxGroups);
  const thumbFiles = [...new Set(shown.flatMap((g) => g.files.slice(0, o.maxPerGroup)))];
  const thumbs = new Map(await mapConcurrent(thumbFiles, 4, async (f) => [f, await thumbnail(join(o.root, f), o.thumbnailSize)] as const));

  const title = `Data check: ${basename(data.data.path)}`;
  const leaks = data.nearDuplicates.filter((g) => g.leak).length;
  const conflicts = data.nearDuplicates.filter((g) => g.conflictingLabels).length;
  const tiles: [string, string, string?][] = [
    ['Files', String(data.data.total)],
    ['Usable', String(data.data.ok)],
    ['Problems', String(data.data.problems), data.data.problems ? 'warn' : undefined],
    ['Near-duplicate groups', String(data.nearDuplicates.length), leaks || conflicts ? 'warn' : undefined],
    ['Shortcuts', String(data.shortcuts.length), data.shortcuts.length ? 'warn' : undefined],
  ];
  const classLine = data.data.classes.map((c) => `${c.label} ${c.images}`).join(' · ');

  return `${reportHead(title, STYLE)}
<header>
<h1>${esc(title)}</h1>
<p class="sub">${esc(data.data.path)} · ${esc(reportTime(data.createdAt))}${classLine ? ` · usable images per class: ${esc(classLine)}` : ''}</p>
<dl class="tiles">${tiles.map(([k, v, cls]) => `<div${cls ? ` class="${cls}"` : ''}><dt>${esc(k)}</dt><dd>${esc(v)}</dd></div>`).join('')}</dl>
</header>
<main>
<section id="shortcuts">
<h2>Shortcuts: what tells the classes apart besides the expression</h2>
${shortcutsHtml(data)}
</section>
<section id="attributes">
<h2>Attributes per class</h2>
${data.images.length ? `<p class="note">Each chart compares the classes' images on one attribute; a shortcut shows as bars that sit apart. Computed from a 64×64 thumbnail of each usable image (colour, brightness, contrast, border) and its file (size, format, JPEG quality).</p>
<div class="table-wrap">${perClassTable(data.perClass)}</div>
<div class="charts attribute-charts">${charts.join('\n')}</div>` : '<p class="note">No usable images, so no attributes to compare.</p>'}
</section>
<section id="near-duplicates">
<h2>Near-duplicates</h2>
${nearDuplicatesHtml(data.nearDuplicates, shown, thumbs, o.maxPerGroup, leaks, conflicts)}
</section>
<section id="problems">
<h2>Problems</h2>
${problemsHtml(data.problems)}
</section>
</main>
<footer>Written by ${esc(data.generator)}. <code>report.json</code> beside this page holds the same content as data, every image's attributes included.</footer>
</body>
</html>
`;
}

function shortcutsHtml(data: CleanReportData): string {
  if (data.shortcuts.length) {
    return `<p class="note">Each attribute alone was given to a one-split classifier, scored by 5-fold cross-validation: its balanced accuracy (0.5 = chance for two classes, 1 = perfect) says how well that attribute alone tells the classes apart. A model can learn these cues instead of the expression, and then fails on images where they do not hold.</p>
<ol class="findings">
${data.shortcuts.map((s) => `<li class="finding"><div class="score"><span class="value">${s.balancedAccuracy.toFixed(2)}</span><span class="what">balanced accuracy</span></div><div><h3>${esc(ATTRIBUTE_NAMES[s.attribute] ?? s.attribute)}</h3><p>${esc(s.detail)}</p></div></li>`).join('\n')}
</ol>`;
  }
  const few = data.data.classes.filter((c) => c.images < MIN_IMAGES_PER_CLASS);
  if (data.data.classes.length < 2) return '<p class="note">Not checked: shortcuts need at least two classes.</p>';
  if (few.length) return `<p class="note">Not checked: too few images to tell a pattern from luck (fewer than ${MIN_IMAGES_PER_CLASS} in ${esc(few.map((c) => c.label).join(', '))}).</p>`;
  return '<p class="note ok">None found: no attribute alone (size, shape, format, JPEG quality, colour, brightness, contrast, border) tells the classes apart clearly. The charts below show how close each one comes.</p>';
}

const ATTRIBUTE_NAMES: Record<string, string> = {
  format: 'File format', width: 'Width', height: 'Height', aspect: 'Aspect ratio', colourfulness: 'Colourfulness', grayscale: 'Grayscale',
  brightness: 'Brightness', contrast: 'Contrast', border: 'Border', jpegQuality: 'JPEG quality',
};

function perClassTable(rows: ClassSummary[]): string {
  const pct = (x: number) => `${Math.round(100 * x)}%`;
  const num = (x: number | null, digits: number) => (x === null ? '–' : x.toFixed(digits));
  const formats = (f: Record<string, number>) => Object.entries(f).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k.toUpperCase()} ${n}`).join(', ');
  return `<table id="per-class">
<caption>Per class (medians unless said otherwise)</caption>
<thead><tr><th scope="col">class</th><th scope="col">images</th><th scope="col">grayscale</th><th scope="col">border ≥ ${pct(BORDER_SHOWN)}</th><th scope="col">colourfulness</th><th scope="col">brightness</th><th scope="col">contrast</th><th scope="col">size</th><th scope="col">aspect</th><th scope="col">JPEG quality</th><th scope="col">formats</th></tr></thead>
<tbody>
${rows.map((c) => `<tr><th scope="row">${esc(c.label)}</th><td>${c.images}</td><td>${pct(c.grayscale)}</td><td>${pct(c.bordered)}</td><td>${num(c.median.colourfulness, 3)}</td><td>${num(c.median.brightness, 2)}</td><td>${num(c.median.contrast, 3)}</td><td>${c.median.width === null ? '–' : `${Math.round(c.median.width)}×${Math.round(c.median.height ?? 0)}`}</td><td>${num(c.median.aspect, 2)}</td><td>${num(c.median.jpegQuality, 0)}</td><td class="left">${esc(formats(c.formats))}</td></tr>`).join('\n')}
</tbody>
</table>`;
}

function nearDuplicatesHtml(all: ReportedGroup[], shown: ReportedGroup[], thumbs: Map<string, Thumbnail | null>, maxPerGroup: number, leaks: number, conflicts: number): string {
  if (all.length === 0) return '<p class="note ok">None found.</p>';
  const summary = [`${all.length} group(s) of the same picture (re-encoded, resized, mirrored or slightly cropped)`];
  if (conflicts) summary.push(`${conflicts} under more than one label`);
  if (leaks) summary.push(`${leaks} across splits (evaluation on them is inflated)`);
  const more = all.length - shown.length;
  return `<p class="note">${esc(summary.join('; '))}. The first image of each group is the one kept; the distance is between perceptual hashes, in bits of 64 (0 = identical to the eye).${more ? ` Showing ${shown.length}, conflicts and leaks first; report.json lists all ${all.length}.` : ''}</p>
<div class="groups">
${shown.map((g, i) => groupHtml(g, i, thumbs, maxPerGroup)).join('\n')}
</div>`;
}

function groupHtml(g: ReportedGroup, index: number, thumbs: Map<string, Thumbnail | null>, maxPerGroup: number): string {
  const kept = g.files[0];
  const flags: string[] = [];
  if (g.conflictingLabels) flags.push(`<span class="flag bad">conflicting labels: ${esc([...new Set(g.labels)].join(', '))}</span>`);
  if (g.leak) flags.push(`<span class="flag bad">leak across ${esc([...new Set(g.splits.map((s) => s ?? 'train'))].join(', '))}</span>`);
  const figures = g.files.slice(0, maxPerGroup).map((file, k) => {
    const thumb = thumbs.get(file) ?? null;
    const label = g.labels[k];
    const split = g.splits[k];
    // Its own match with the kept image when there is one, else its closest match in the group.
    const pairs = g.pairs.filter((p) => p.a === file || p.b === file);
    const pair = pairs.find((p) => p.a === kept || p.b === kept) ?? [...pairs].sort((a, b) => a.distance - b.distance)[0];
    const other = pair ? (pair.a === file ? pair.b : pair.a) : undefined;
    const how = k === 0 ? '<span class="kept">kept</span>'
      : pair ? `<span>${pair.distance} bit${pair.distance === 1 ? '' : 's'}${pair.mirrored ? ', mirrored' : ''}${other !== kept && other ? ` from ${esc(basename(other))}` : ''}</span>` : '';
    const odd = (g.conflictingLabels && label !== g.labels[0]) || (g.leak && (split ?? 'train') !== (g.splits[0] ?? 'train'));
    const alt = `${file}: ${label}${split ? `, ${split}` : ''}`;
    const image = thumb ? `<img src="${thumb.src}" width="${thumb.width}" height="${thumb.height}" alt="${esc(alt)}">` : `<div class="missing" role="img" aria-label="${esc(alt)}">image unavailable</div>`;
    return `<figure class="dup${odd ? ' odd' : ''}">${image}<figcaption><span class="file" title="${esc(file)}">${esc(basename(file))}</span><span><b>${esc(label)}</b>${split ? ` · ${esc(split)}` : ''}</span>${how}</figcaption></figure>`;
  });
  const hidden = g.files.length - Math.min(g.files.length, maxPerGroup);
  return `<div class="group${g.leak || g.conflictingLabels ? ' flagged' : ''}" id="group-${index + 1}">
<div class="group-head"><b>${g.files.length} images</b>${flags.join('')}</div>
<div class="group-images">${figures.join('')}${hidden ? `<div class="more">+${hidden} more</div>` : ''}</div>
</div>`;
}

function problemsHtml(problems: CleanReportInput['problems']): string {
  if (problems.length === 0) return '<p class="note ok">None: every file is a usable image.</p>';
  const table = `<div class="table-wrap"><table id="problem-list" class="left">
<thead><tr><th scope="col">file</th><th scope="col">problem</th><th scope="col">detail</th></tr></thead>
<tbody>
${problems.map((p) => `<tr><td class="mono">${esc(p.file)}</td><td>${esc(describeProblemKind(p))}</td><td>${esc(p.detail)}</td></tr>`).join('\n')}
</tbody>
</table></div>`;
  const summary = `${problems.length} file(s) not used: ${formatProblemCounts(countProblems(problems))}`;
  // A long list stays folded so the page's findings come first; a short one is shown.
  return problems.length > 30 ? `<details><summary>${esc(summary)}</summary>${table}</details>` : `<p class="note">${esc(summary)}.</p>${table}`;
}

/** A small JPEG of an image as people see it (EXIF-rotated, transparency on white); null when it cannot be read. */
async function thumbnail(file: string, size: number): Promise<Thumbnail | null> {
  try {
    const { data, info } = await sharp(file, { failOn: 'none', limitInputPixels: DEFAULT_IMAGE_LIMITS.maxPixels })
      .rotate()
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .resize(size, size, { fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: 80 })
      .toBuffer({ resolveWithObject: true });
    return { src: `data:image/jpeg;base64,${data.toString('base64')}`, width: info.width, height: info.height };
  } catch {
    return null;
  }
}

function share<T>(items: T[], test: (item: T) => boolean): number {
  return items.length ? items.filter(test).length / items.length : 0;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** 1, 2 or 5 times a power of ten, at least `x`: bin widths a reader can add up. */
function niceStep(x: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(x, 1e-9)));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= x) ?? 10 * p;
}

const STYLE = `
.tiles div.warn { border-color: var(--wrong); }
.tiles div.warn dd { color: var(--wrong); }
.note.ok { color: ${'#1b6e3a'}; }
h3 { font-size: 15px; margin: 0 0 4px; }
.findings { list-style: none; padding: 0; margin: 0; display: grid; gap: 12px; }
.finding { display: grid; grid-template-columns: 96px 1fr; gap: 16px; align-items: start; background: var(--card); border: 1px solid var(--line); border-left: 4px solid var(--wrong); border-radius: 8px; padding: 12px 16px; }
.finding p { margin: 0; }
.score { display: flex; flex-direction: column; align-items: center; }
.score .value { font-size: 26px; font-weight: 600; font-variant-numeric: tabular-nums; }
.score .what { font-size: 11.5px; color: var(--muted); text-align: center; line-height: 1.2; }
.attribute-charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 20px 24px; margin-top: 16px; }
td.left, table.left td, table.left th { text-align: left; }
#per-class { margin-bottom: 8px; }
.groups { display: flex; flex-wrap: wrap; gap: 14px; align-items: flex-start; }
.group { max-width: 100%; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.group.flagged { border-left: 4px solid var(--wrong); }
.group-head { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; font-size: 14px; margin-bottom: 8px; }
.flag { font-size: 12px; padding: 1px 8px; border-radius: 10px; }
.flag.bad { background: var(--wrong); color: #ffffff; }
.group-images { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
.dup { width: 140px; display: flex; flex-direction: column; align-items: center; }
.dup img, .dup .missing { display: block; max-width: 100%; height: auto; border-radius: 3px; border: 2px solid transparent; }
.dup.odd img, .dup.odd .missing { border-color: var(--wrong); }
.dup .kept { color: #1b6e3a; font-weight: 600; }
.more { align-self: center; color: var(--muted); font-size: 13px; }
#problem-list td { font-size: 13px; vertical-align: top; }
`;
