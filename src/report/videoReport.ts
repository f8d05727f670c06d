import { join } from 'node:path';
import sharp from 'sharp';
import { grabVideoFrame, probeVideo, type VideoInfo } from '../input/videoFrames.js';
import type { BundleMetadata } from '../model/bundleMetadata.js';
import type { VideoErrorRow, VideoRow } from '../predict/predictVideo.js';
import { TrackSummaries, type TrackSummary } from '../predict/trackSummary.js';
import { forcedChoicePair } from '../predict/forcedChoice.js';
import { PALETTE, renderChartSvg, scopeSvgIds, type ChartSpec } from './renderChart.js';
import { claimReportOutput, REPORT_HTML, REPORT_JSON, VIDEO_REPORT_FORMAT, writeReportFiles, type ReportFolderOptions } from './reportOutput.js';
import { esc, fact, reportHead, reportTime, type Thumbnail } from './reportPage.js';

export interface VideoReportInput {
  metadata: BundleMetadata;
  /** Each video's rows, as predictVideo gave them (error rows included). */
  videos: { file: string; rows: (VideoRow | VideoErrorRow)[] }[];
  every: number;
  smooth: number;
  /** The rows were predicted with forced choice (PredictVideoOptions.forcedChoice). */
  forcedChoice?: boolean;
}

export interface VideoReportData {
  format: typeof VIDEO_REPORT_FORMAT;
  created: string;
  /** With forced choice: the pair, and `threshold` is the pair's (on the forced-choice score). */
  model: { name: string; classes: string[]; positiveClass: string; threshold: number; forcedChoice?: { between: [string, string] } };
  every: number;
  smooth: number;
  videos: { file: string; frames: number; error?: string; tracks: TrackSummary[]; rows: VideoRow[] }[];
}

export function buildVideoReportData(input: VideoReportInput, now = new Date()): VideoReportData {
  const m = input.metadata;
  const pair = input.forcedChoice ? forcedChoicePair(m) : null;
  return {
    format: VIDEO_REPORT_FORMAT,
    created: now.toISOString(),
    model: { name: m.name, classes: m.classes, positiveClass: m.positiveClass, threshold: pair ? pair.threshold : m.threshold, ...(pair ? { forcedChoice: { between: [m.classes[pair.positive]!, m.classes[pair.other]!] as [string, string] } } : {}) },
    every: input.every,
    smooth: input.smooth,
    videos: input.videos.map(({ file, rows }) => {
      const summaries = new TrackSummaries(m.classes);
      const ok = rows.filter((r): r is VideoRow => !('error' in r));
      for (const r of ok) summaries.add(r);
      const error = rows.find((r): r is VideoErrorRow => 'error' in r)?.error.message;
      return { file, frames: new Set(ok.map((r) => r.frame)).size, ...(error ? { error } : {}), tracks: summaries.summaries(), rows: ok.filter((r) => r.track !== undefined) };
    }),
  };
}

/**
 * One track over time. Two classes: p(positive class), the raw score as points and line, the moving
 * average when there is one, the threshold as a rule, and the stretches above it shaded. More
 * classes (happy, neutral, sad): see classTimelineSpec.
 */
export function trackTimelineSpec(rows: VideoRow[], data: Pick<VideoReportData, 'model' | 'every'>, title: string): ChartSpec {
  // Under forced choice the score is a two-class one again, with the pair's threshold.
  if (data.model.classes.length > 2 && !data.model.forcedChoice) return classTimelineSpec(rows, data, title);
  const { positiveClass, threshold } = data.model;
  const values = rows.map((r) => ({ time: r.time, score: r.score, smoothed: r.smoothed_score ?? null, positive: r.score! >= threshold ? 1 : 0 }));
  const half = data.every / 2;
  const shaded = rows.filter((r) => r.score! >= threshold).map((r) => ({ from: r.time - half, to: r.time + half }));
  const x = { field: 'time', type: 'quantitative', title: 'Seconds', scale: { domain: [Math.max(0, (rows[0]?.time ?? 0) - half), (rows.at(-1)?.time ?? 1) + half] } } as const;
  return {
    title: { text: title, anchor: 'start' },
    width: 640,
    height: 160,
    layer: [
      { data: { values: shaded }, mark: { type: 'rect', color: PALETTE.green, opacity: 0.15 }, encoding: { x: { field: 'from', type: 'quantitative', scale: x.scale, title: x.title }, x2: { field: 'to' } } },
      { data: { values: [{ t: threshold }] }, mark: { type: 'rule', color: PALETTE.grey, strokeDash: [4, 3] }, encoding: { y: { field: 't', type: 'quantitative' } } },
      { data: { values }, mark: { type: 'line', color: PALETTE.blue, point: { size: 18 } }, encoding: { x, y: { field: 'score', type: 'quantitative', title: `p(${positiveClass})`, scale: { domain: [0, 1] } } } },
      ...(values.some((v) => v.smoothed !== null) ? [{ data: { values }, mark: { type: 'line' as const, color: PALETTE.vermillion, strokeWidth: 2.5 }, encoding: { x, y: { field: 'smoothed', type: 'quantitative' as const, scale: { domain: [0, 1] } } } }] : []),
    ],
  } as ChartSpec;
}

/** Colours that read as the expression where the class is a known one; the palette's others in order. */
const CLASS_COLOURS: Record<string, string> = { happy: PALETTE.orange, neutral: PALETTE.grey, sad: PALETTE.blue };

export function classColours(classes: readonly string[]): string[] {
  const spare = [PALETTE.green, PALETTE.vermillion, PALETTE.purple, PALETTE.sky].filter((c) => !classes.some((k) => CLASS_COLOURS[k] === c));
  let next = 0;
  return classes.map((c) => CLASS_COLOURS[c] ?? spare[next++ % spare.length]!);
}

/**
 * Every class's probability over time for one track, one colour per class: the raw probabilities
 * as thin lines with points (faint when there is a moving average, which is drawn thick), and each
 * frame's label (the smoothed one when there is a moving average) as a shaded band in its class's colour.
 */
export function classTimelineSpec(rows: VideoRow[], data: Pick<VideoReportData, 'model' | 'every'>, title: string): ChartSpec {
  const { classes } = data.model;
  // The same colours in every layer; a scale each, so the one legend (the raw lines') draws its lines solid, not as the faint bands.
  const colour = { type: 'nominal' as const, scale: { domain: [...classes], range: classColours(classes) } };
  const smoothed = rows.some((r) => r.smoothed_probabilities);
  const raw = rows.flatMap((r) => classes.map((c) => ({ time: r.time, class: c, p: r.probabilities?.[c] ?? 0 })));
  const mean = smoothed ? rows.flatMap((r) => classes.map((c) => ({ time: r.time, class: c, p: r.smoothed_probabilities?.[c] ?? 0 }))) : [];
  const half = data.every / 2;
  const bands = rows.map((r) => ({ from: r.time - half, to: r.time + half, label: (smoothed ? r.smoothed_label : undefined) ?? r.label }));
  const x = { field: 'time', type: 'quantitative' as const, title: 'Seconds', scale: { domain: [Math.max(0, (rows[0]?.time ?? 0) - half), (rows.at(-1)?.time ?? 1) + half] } };
  const y = { field: 'p', type: 'quantitative' as const, title: 'probability', scale: { domain: [0, 1] } };
  return {
    title: { text: title, anchor: 'start' },
    resolve: { scale: { color: 'independent' } },
    width: 640,
    height: 160,
    layer: [
      { data: { values: bands }, mark: { type: 'rect', opacity: 0.15 }, encoding: { x: { field: 'from', type: 'quantitative', scale: x.scale, title: x.title }, x2: { field: 'to' }, color: { field: 'label', ...colour, legend: null } } },
      { data: { values: raw }, mark: { type: 'line', strokeWidth: 1.2, opacity: smoothed ? 0.35 : 1, point: { size: 14 } }, encoding: { x, y, color: { field: 'class', ...colour, legend: { title: null, symbolType: 'stroke', symbolOpacity: 1, symbolStrokeWidth: 3 } } } },
      ...(smoothed ? [{ data: { values: mean }, mark: { type: 'line' as const, strokeWidth: 2.5 }, encoding: { x, y, color: { field: 'class', ...colour, legend: null } } }] : []),
    ],
  } as ChartSpec;
}

/** The track's face at the frame where the detector was surest, as a small JPEG. */
async function trackThumbnail(file: string, info: VideoInfo | undefined, rows: VideoRow[], size = 96): Promise<Thumbnail | undefined> {
  const best = rows.reduce((a, b) => ((b.detector_score ?? 0) > (a.detector_score ?? 0) ? b : a));
  const frame = info && (await grabVideoFrame(file, best.time, info).catch(() => undefined));
  if (!frame || !best.box) return undefined;
  const [x, y, w, h] = best.box;
  const left = Math.max(0, Math.min(frame.width - 1, x));
  const top = Math.max(0, Math.min(frame.height - 1, y));
  const width = Math.max(1, Math.min(frame.width - left, w));
  const height = Math.max(1, Math.min(frame.height - top, h));
  const jpeg = await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } }).extract({ left, top, width, height }).resize(size, size, { fit: 'inside' }).jpeg({ quality: 80 }).toBuffer({ resolveWithObject: true });
  return { src: `data:image/jpeg;base64,${jpeg.data.toString('base64')}`, width: jpeg.info.width, height: jpeg.info.height };
}

export async function renderVideoReportHtml(data: VideoReportData): Promise<string> {
  const pct = (x: number) => `${Math.round(100 * x)}%`;
  const sections: string[] = [];
  for (const [v, video] of data.videos.entries()) {
    const cards: string[] = [];
    const info = video.tracks.length ? await probeVideo(video.file).catch(() => undefined) : undefined;
    for (const t of video.tracks) {
      const rows = video.rows.filter((r) => r.track === t.track);
      const id = `v${v}-t${t.track}`;
      const svg = scopeSvgIds(await renderChartSvg(trackTimelineSpec(rows, data, `Track ${t.track}`)), id);
      const thumb = await trackThumbnail(video.file, info, rows);
      const facts = [
        fact('seen', `${t.first.toFixed(1)} s to ${t.last.toFixed(1)} s (${t.frames} frames)`),
        ...data.model.classes.map((c) => fact(c, `${pct(t.share[c]!)} of its frames`)),
        fact(`mean p(${data.model.positiveClass})`, t.meanScore.toFixed(3)),
        fact('median', t.medianScore.toFixed(3)),
      ].join('');
      cards.push(`<div class="card track"><div class="track-head">${thumb ? `<img src="${thumb.src}" width="${thumb.width}" height="${thumb.height}" alt="Track ${t.track}'s face">` : '<div class="missing">no thumbnail</div>'}<dl class="facts">${facts}</dl></div><figure class="chart" id="${id}">${svg}</figure></div>`);
    }
    const table = video.tracks.length
      ? `<div class="table-wrap"><table><caption>Tracks</caption><thead><tr><th>track</th><th>from s</th><th>to s</th><th>frames</th>${data.model.classes.map((c) => `<th>${esc(c)}</th>`).join('')}<th>mean</th><th>median</th></tr></thead><tbody>${video.tracks.map((t) => `<tr><th scope="row">${t.track}</th><td>${t.first.toFixed(1)}</td><td>${t.last.toFixed(1)}</td><td>${t.frames}</td>${data.model.classes.map((c) => `<td>${pct(t.share[c]!)}</td>`).join('')}<td>${t.meanScore.toFixed(3)}</td><td>${t.medianScore.toFixed(3)}</td></tr>`).join('')}</tbody></table></div>`
      : '<p class="note">No face was found in any sampled frame.</p>';
    sections.push(`<section><h2>${esc(video.file)}</h2><p class="sub">${video.frames} frames sampled every ${data.every} s; ${video.tracks.length} track(s).${video.error ? ` <span class="wrong">Stopped early: ${esc(video.error)}</span>` : ''}</p>${table}<div class="cards tracks">${cards.join('')}</div></section>`);
  }
  return `${reportHead('happysad video report', `
.tracks { grid-template-columns: 1fr; }
.track-head { display: flex; gap: 16px; align-items: flex-start; margin-bottom: 8px; }
.track-head img { border-radius: 4px; }
`)}<header><h1>Expressions over time</h1><p class="sub">Model “${esc(data.model.name)}”${data.model.forcedChoice ? `, forced choice between ${data.model.forcedChoice.between.map(esc).join(' and ')}` : ''}: ${data.model.classes.length > 2 && !data.model.forcedChoice
    ? `each class's probability (${data.model.classes.map(esc).join(', ')}) per sampled frame and person, one colour per class; the background is shaded in the colour of each frame's ${data.smooth ? 'smoothed ' : ''}label${data.smooth ? `, ${data.smooth} s moving averages drawn thick` : ''}`
    : `p(${esc(data.model.positiveClass)}) per sampled frame and person in blue; threshold ${data.model.threshold.toFixed(3)} (dashed), frames above it shaded${data.smooth ? `, ${data.smooth} s moving average in orange` : ''}`}. A track is one person while in view: a face that leaves for over a second and returns gets a new track.</p></header><main>${sections.join('')}</main><footer>Written by happysad on ${esc(reportTime(data.created))}.</footer></body></html>\n`;
}

/** Writes OUT/report.html (self-contained: charts inline, thumbnails as data: URLs) and OUT/report.json. */
export async function writeVideoReport(input: VideoReportInput, outDir: string, options: ReportFolderOptions = {}): Promise<{ dir: string; html: string; replaced: boolean }> {
  const claim = await claimReportOutput(outDir, { ...options, format: VIDEO_REPORT_FORMAT });
  const data = buildVideoReportData(input);
  const html = await renderVideoReportHtml(data);
  await writeReportFiles(claim, { [REPORT_HTML]: html, [REPORT_JSON]: `${JSON.stringify(data, null, 2)}\n` }, options.flag ?? '--report', VIDEO_REPORT_FORMAT);
  return { dir: claim.dir, html: join(claim.dir, REPORT_HTML), replaced: claim.replaces };
}
