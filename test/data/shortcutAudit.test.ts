import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Random } from '../../src/base/random.js';
import type { ImageAttributes } from '../../src/data/auditTypes.js';
import { auditShortcuts, MIN_IMAGES_PER_CLASS, type AuditItem } from '../../src/data/shortcutAudit.js';

/** Attributes as a web scrape spreads them, the same for every class unless `bias` says otherwise. */
function attributes(r: Random, bias: { grayShare?: number; brightness?: number; border?: number; format?: string; quality?: number } = {}): ImageAttributes {
  const gray = r.next() < (bias.grayShare ?? 0);
  const width = 200 + r.int(1000);
  const height = 200 + r.int(1000);
  const format = bias.format ?? (r.next() < 0.8 ? 'jpeg' : 'png');
  return {
    format, width, height, aspect: width / height,
    colourfulness: gray ? r.next() * 0.03 : 0.06 + r.next() * 0.3,
    grayscale: gray,
    brightness: bias.brightness ?? 0.2 + r.next() * 0.6,
    contrast: 0.1 + r.next() * 0.2,
    border: bias.border ?? (r.next() < 0.8 ? 0 : r.next() * 0.3),
    jpegQuality: format === 'jpeg' ? (bias.quality ?? 60 + r.int(40)) : null,
  };
}

function dataset(seed: number, perClass: number, bias: Partial<Record<string, (r: Random) => Parameters<typeof attributes>[1]>> = {}, classes = ['happy', 'sad']): AuditItem[] {
  const r = new Random(seed);
  return classes.flatMap((label) => Array.from({ length: perClass }, () => ({ label, attributes: attributes(r, bias[label]?.(r)) })));
}

test('a class that is 40% gray against 0% is flagged on colour, with the shares and what to do', () => {
  const items = dataset(1, 60, { sad: () => ({ grayShare: 0.4 }) });
  const found = auditShortcuts(items);
  assert.ok(found.length > 0, 'something is flagged');
  assert.ok(found.every((s) => s.attribute === 'grayscale' || s.attribute === 'colourfulness'), `only colour: ${found.map((s) => s.attribute)}`);
  const gray = found.find((s) => s.attribute === 'grayscale');
  assert.ok(gray, 'grayscale itself is flagged');
  assert.ok(gray.balancedAccuracy >= 0.65, `balanced accuracy ${gray.balancedAccuracy}`);
  const sadGray = items.filter((i) => i.label === 'sad' && i.attributes.grayscale).length / 60;
  assert.match(gray.detail, new RegExp(`^${Math.round(100 * sadGray)}% of sad images are grayscale against 0% of happy ones; a model can learn 'gray means sad'\\. Convert all images to grayscale \\(train --input HxWx1\\)`));
  for (let i = 1; i < found.length; i++) assert.ok(found[i - 1].balancedAccuracy >= found[i].balancedAccuracy, 'strongest first');
});

test('the advice fits the model: a grayscale model is not told to convert to grayscale, a face-crop model not to crop borders', () => {
  const gray = dataset(1, 60, { sad: () => ({ grayShare: 0.4 }) });
  const detail = (items: AuditItem[], attribute: string, model?: { channels: number; faceCrops: boolean }) => auditShortcuts(items, model ? { model } : {}).find((s) => s.attribute === attribute)!.detail;
  const rgb = detail(gray, 'grayscale', { channels: 3, faceCrops: false });
  assert.match(rgb, /a model can learn 'gray means sad'\. Convert all images to grayscale \(train --input HxWx1\), or balance the gray share per class\.$/);
  // face-48 (48x48x1, face crops): the colour never reaches it; what gray pictures still carry does.
  const grayModel = detail(gray, 'grayscale', { channels: 1, faceCrops: true });
  assert.doesNotMatch(grayModel, /Convert|--input/);
  assert.match(grayModel, /the model being trained sees grayscale \(input HxWx1\), so the colour itself is hidden from it; .* it can still learn as 'sad': balance the gray share per class\.$/);
  // clean knows no model: both cases, and which models are already gray.
  assert.match(detail(gray, 'grayscale'), /Convert all images to grayscale \(train --input HxWx1\) for a colour model \(face-48 and the default model already see only grayscale\), and either way balance the gray share per class\.$/);

  const framed = dataset(6, 80, { happy: (r) => ({ border: 0.1 + r.next() * 0.2 }), sad: () => ({ border: 0 }) });
  assert.match(detail(framed, 'border', { channels: 3, faceCrops: false }), /Crop the borders \(letterbox bars, frames, empty backdrop\) off, or give every class/);
  const faces = detail(framed, 'border', { channels: 1, faceCrops: true });
  assert.match(faces, /face crops leave most borders out, so 'a frame means happy' reaches the model through photos where no face is found/);
  assert.doesNotMatch(faces, /letterbox/);
});

test('the same classes without a bias: nothing is flagged', () => {
  for (const seed of [2, 3, 4]) assert.deepEqual(auditShortcuts(dataset(seed, 60)), [], `seed ${seed}`);
});

test('the result is a function of the items and the seed', () => {
  const items = dataset(5, 60, { sad: () => ({ grayShare: 0.4 }) });
  assert.deepEqual(auditShortcuts(items, { seed: 9 }), auditShortcuts(items, { seed: 9 }));
  assert.deepEqual(auditShortcuts(items), auditShortcuts(structuredClone(items)));
  // Folds differ by seed, so the cross-validated figure may too; the finding does not.
  const other = auditShortcuts(items, { seed: 10, folds: 3 });
  assert.ok(other.some((s) => s.attribute === 'grayscale'));
});

test('each kind of shortcut gets its advice, and stronger ones come first', () => {
  const items = dataset(6, 80, {
    // Every happy image framed: a perfect cue. Happy images saved at lower quality: a partial one.
    happy: (r) => ({ border: 0.1 + r.next() * 0.2, quality: 60 + r.int(20) }),
    sad: (r) => ({ border: 0, brightness: 0.1 + r.next() * 0.3, quality: 75 + r.int(25) }),
  });
  const found = auditShortcuts(items);
  assert.deepEqual(found.map((s) => s.attribute).slice(0, 1), ['border']);
  const by = Object.fromEntries(found.map((s) => [s.attribute, s]));
  assert.equal(by.border.balancedAccuracy, 1);
  assert.match(by.border.detail, /^100% of happy images have more than \d+% of their area in flat borders against \d+% of sad ones; a model can learn 'a frame means happy'\. Crop the borders/);
  // Either side says it: most sad images are dark, most happy ones are not.
  assert.match(by.brightness.detail, /^\d+% of (sad images have mean brightness below 0\.\d\d .*'dark means sad'|happy images have mean brightness above 0\.\d\d .*'bright means happy').*--augment/);
  assert.match(by.jpegQuality.detail, /^Among the JPEGs, \d+% of happy images are saved at quality \d+ or lower against \d+% of sad ones; .*Re-encode every image the same way/);
  assert.equal(by.format, undefined, 'formats are spread alike');
});

test('format: the rarer format is named; an attribute is audited only where images have it', () => {
  const items = dataset(7, 50, { happy: () => ({ format: 'jpeg' }), sad: (r) => ({ format: r.next() < 0.5 ? 'png' : 'jpeg' }) });
  const format = auditShortcuts(items).find((s) => s.attribute === 'format');
  assert.ok(format);
  const sadPng = items.filter((i) => i.label === 'sad' && i.attributes.format === 'png').length / 50;
  assert.equal(format.detail, `${Math.round(100 * sadPng)}% of sad images are PNG against 0% of happy ones; a model can learn 'PNG means sad' from compression artefacts. Re-encode every image the same way (same format and JPEG quality) before training.`);

  // Every sad image gray and PNG, but one undecodable: its NaN statistics count as no value, which
  // leaves 19 sad images with a colour, too few to judge colour on; the format is still judged.
  const few = dataset(8, MIN_IMAGES_PER_CLASS, { sad: () => ({ grayShare: 1, format: 'png' }) });
  few[few.length - 1].attributes = { ...few[few.length - 1].attributes, colourfulness: Number.NaN, brightness: Number.NaN, contrast: Number.NaN, border: Number.NaN, grayscale: false };
  assert.deepEqual(auditShortcuts(few).map((s) => s.attribute), ['format']);
});

test(`with fewer than ${MIN_IMAGES_PER_CLASS} images in a class nothing is said, however clear the pattern`, () => {
  const items = dataset(8, MIN_IMAGES_PER_CLASS, { sad: () => ({ grayShare: 1 }) });
  assert.ok(auditShortcuts(items).some((s) => s.attribute === 'grayscale'));
  assert.deepEqual(auditShortcuts(items.slice(1)), []);
  assert.deepEqual(auditShortcuts(items.filter((i) => i.label === 'sad')), [], 'one class');
});

test('three classes: an attribute that sets one class apart is flagged above a three-way chance', () => {
  const items = dataset(9, 60, { neutral: () => ({ brightness: 0.9 }) }, ['happy', 'neutral', 'sad']);
  const found = auditShortcuts(items);
  assert.deepEqual(found.map((s) => s.attribute), ['brightness']);
  // One class found, two left to a coin: (1 + 1/2) / 3 at best.
  assert.ok(found[0].balancedAccuracy > 0.6 && found[0].balancedAccuracy <= 0.5 + 1e-9 + 1 / 6, `${found[0].balancedAccuracy}`);
  assert.match(found[0].detail, /^100% of neutral images have mean brightness above 0\.\d\d .* against \d+% of \w+ and \d+% of \w+; a model can learn 'bright means neutral'/);
});
