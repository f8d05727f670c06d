import { BundleError } from '../base/errors.js';
import { BUNDLE_FORMAT_VERSION, type BundleMetadata } from './bundleMetadata.js';

const RESIZE = ['fill', 'cover', 'contain'];
const KERNELS = ['nearest', 'linear', 'cubic', 'lanczos3'];

/**
 * Checks the fields of happysad.json that every path reads, by type and range, so that a hand-
 * edited or damaged file is refused at load with the field named, not met later as a TypeError
 * or as a model that silently labels everything one class (threshold 2).
 */
export function validateMetadata(m: BundleMetadata, where: string): void {
  const fail = (field: string, want: string, got: unknown): never => {
    throw new BundleError(`${where}: "${field}" must be ${want}, got ${JSON.stringify(got)}; the bundle is damaged or was edited by hand`);
  };
  if (typeof m.formatVersion !== 'number' || !Number.isInteger(m.formatVersion) || m.formatVersion < 1) fail('formatVersion', 'a positive integer', m.formatVersion);
  if (m.formatVersion > BUNDLE_FORMAT_VERSION) {
    throw new BundleError(`${where}: bundle format version ${m.formatVersion} is newer than this happysad understands (${BUNDLE_FORMAT_VERSION}); upgrade happysad`);
  }
  if (!Array.isArray(m.classes) || m.classes.length < 2 || !m.classes.every((c) => typeof c === 'string' && c.length > 0)) fail('classes', 'a list of at least two class names', m.classes);
  if (new Set(m.classes).size !== m.classes.length) fail('classes', 'a list of distinct names', m.classes);
  if (m.output !== 'sigmoid' && m.output !== 'softmax') fail('output', '"sigmoid" or "softmax"', m.output);
  if (typeof m.positiveClass !== 'string') fail('positiveClass', 'a class name', m.positiveClass);
  if (typeof m.threshold !== 'number' || !(m.threshold >= 0 && m.threshold <= 1)) fail('threshold', 'a number from 0 to 1', m.threshold);
  if (m.forcedChoice !== undefined) {
    const f = m.forcedChoice;
    if (f === null || typeof f !== 'object') fail('forcedChoice', 'an object { between, threshold }', f);
    if (!Array.isArray(f.between) || f.between.length !== 2 || f.between[0] === f.between[1] || !f.between.every((c) => m.classes.includes(c))) fail('forcedChoice.between', `two different classes of the model (${m.classes.join(', ')})`, f.between);
    if (!f.between.includes(m.positiveClass)) fail('forcedChoice.between', `a pair that holds the positive class "${m.positiveClass}"`, f.between);
    if (typeof f.threshold !== 'number' || !(f.threshold > 0 && f.threshold < 1)) fail('forcedChoice.threshold', 'a number between 0 and 1', f.threshold);
  }
  const p = m.preprocessing;
  if (p === null || typeof p !== 'object') fail('preprocessing', 'an object', p);
  for (const k of ['height', 'width'] as const) if (!Number.isInteger(p[k]) || p[k] < 1) fail(`preprocessing.${k}`, 'a positive integer', p[k]);
  if (p.channels !== 1 && p.channels !== 3) fail('preprocessing.channels', '1 or 3', p.channels);
  if (!RESIZE.includes(p.resize)) fail('preprocessing.resize', RESIZE.map((r) => `"${r}"`).join(', '), p.resize);
  if (!KERNELS.includes(p.kernel)) fail('preprocessing.kernel', KERNELS.map((r) => `"${r}"`).join(', '), p.kernel);
  if (!Array.isArray(p.background) || p.background.length !== 3 || !p.background.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)) fail('preprocessing.background', 'three integers from 0 to 255', p.background);
  for (const k of ['scale', 'offset'] as const) if (typeof p[k] !== 'number' || !Number.isFinite(p[k])) fail(`preprocessing.${k}`, 'a finite number', p[k]);
  if (p.decodeFullSize !== undefined && typeof p.decodeFullSize !== 'boolean') fail('preprocessing.decodeFullSize', 'true or false', p.decodeFullSize);
  if (p.faces) {
    // Which detectors exist is the face step's to say (createFaceDetector names them).
    if (typeof p.faces.detector !== 'string') fail('preprocessing.faces.detector', 'a detector name', p.faces.detector);
    if (typeof p.faces.margin !== 'number' || !(p.faces.margin >= 0 && p.faces.margin <= 4)) fail('preprocessing.faces.margin', 'a number from 0 to 4', p.faces.margin);
    if (typeof p.faces.minScore !== 'number' || !(p.faces.minScore > 0 && p.faces.minScore < 1)) fail('preprocessing.faces.minScore', 'a number between 0 and 1', p.faces.minScore);
  }
  // Absent in bundles made before calibration existed; those stay valid as they are.
  const c = m.calibration;
  if (c !== undefined) {
    if (c === null || typeof c !== 'object' || Array.isArray(c)) fail('calibration', 'an object (or absent)', c);
    if (c.method !== 'temperature') fail('calibration.method', '"temperature"', c.method);
    // A temperature of 0 or below, or infinite, turns every probability into 0, 1 or NaN.
    if (typeof c.temperature !== 'number' || !Number.isFinite(c.temperature) || !(c.temperature > 0)) fail('calibration.temperature', 'a positive finite number', c.temperature);
    if (typeof c.fittedOn !== 'string') fail('calibration.fittedOn', 'a description of the data it was fitted on', c.fittedOn);
    if (!Number.isInteger(c.n) || c.n < 1) fail('calibration.n', 'a positive integer', c.n);
    for (const k of ['eceBefore', 'eceAfter'] as const) if (typeof c[k] !== 'number' || !(c[k] >= 0 && c[k] <= 1)) fail(`calibration.${k}`, 'a number from 0 to 1', c[k]);
  }
}
