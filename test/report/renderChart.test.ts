import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { renderChartPng, renderChartSvg, scopeSvgIds, type ChartSpec } from '../../src/report/renderChart.js';

const bars: ChartSpec = {
  width: 200,
  height: 100,
  data: { values: [{ k: 'a', v: 1 }, { k: 'b', v: 3 }] },
  mark: { type: 'bar', clip: true },
  encoding: { x: { field: 'k', type: 'nominal' }, y: { field: 'v', type: 'quantitative' } },
};

test('a spec becomes a standalone SVG in the house font, and a PNG twice its size', async () => {
  const svg = await renderChartSvg(bars);
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /font-family="DejaVu Sans/);
  assert.equal(svg.match(/aria-roledescription="bar"/g)?.length, 2);
  const width = Number(/width="(\d+)"/.exec(svg)![1]);
  const meta = await sharp(await renderChartPng(bars)).metadata();
  assert.equal(meta.width, 2 * width);
});

test('a spec that names a URL fails instead of fetching it', async () => {
  const remote = { ...bars, data: { url: 'http://127.0.0.1:9/data.json' } } as ChartSpec;
  await assert.rejects(renderChartSvg(remote), /inline/);
});

test('scopeSvgIds renames each defined id and every reference to it, and nothing else', async () => {
  const svg = await renderChartSvg(bars);
  const ids = [...svg.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  assert.ok(ids.length > 0, 'the clipped bars define a clip path');
  const scoped = scopeSvgIds(svg, 'roc');
  for (const id of ids) {
    assert.ok(scoped.includes(`id="roc-${id}"`));
    assert.ok(!scoped.includes(`url(#${id})`));
  }
  assert.ok(scoped.includes(`url(#roc-${ids[0]})`));
  assert.equal(scoped.replace(/roc-/g, ''), svg);
  const hand = '<svg><defs><clipPath id="c"/></defs><g clip-path="url(#c)"><use href="#c"/><text>url(#other)</text></g></svg>';
  assert.equal(scopeSvgIds(hand, 'x'), '<svg><defs><clipPath id="x-c"/></defs><g clip-path="url(#x-c)"><use href="#x-c"/><text>url(#other)</text></g></svg>');
});

test('vega\'s text measure (a global) is ours only while a chart renders', async () => {
  const vega = (await import('vega')) as unknown as { textMetrics: { width: unknown } };
  const before = vega.textMetrics.width;
  await Promise.all([renderChartSvg(bars), renderChartSvg(bars)]);
  assert.equal(vega.textMetrics.width, before);
});
