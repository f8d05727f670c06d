import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CleanProblem } from '../../src/data/cleanDataset.js';
import { countProblems, describeProblemKind, describeSkipped, formatProblemCounts, problemKind } from '../../src/data/problemKinds.js';

const p = (problem: CleanProblem['problem'], leak = false): CleanProblem => ({ file: `${problem}-${Math.random()}`, problem, detail: '', ...(leak ? { leak: true as const } : {}) });

test('every problem has one kind of five; a copy across splits is a leak whatever kind of copy', () => {
  assert.equal(problemKind(p('corrupt')), 'corrupt');
  assert.equal(problemKind(p('unreadable')), 'corrupt');
  for (const invalid of ['not-image', 'unsupported', 'too-small', 'too-large'] as const) assert.equal(problemKind(p(invalid)), 'invalid');
  assert.equal(problemKind(p('duplicate')), 'exact-duplicate');
  assert.equal(problemKind(p('near-duplicate')), 'near-duplicate');
  assert.equal(problemKind(p('duplicate', true)), 'leak');
  assert.equal(problemKind(p('near-duplicate', true)), 'leak');
  assert.equal(describeProblemKind(p('too-small')), 'invalid (too-small)');
  assert.equal(describeProblemKind(p('near-duplicate', true)), 'leak (near-duplicate)');
  assert.equal(describeProblemKind(p('duplicate')), 'exact duplicate');
});

test('counts in the one vocabulary, singular and plural, in a fixed order', () => {
  const counts = countProblems([p('near-duplicate', true), p('duplicate'), p('duplicate'), p('not-image'), p('near-duplicate', true), p('corrupt')]);
  assert.deepEqual(counts, { corrupt: 1, invalid: 1, 'exact-duplicate': 2, 'near-duplicate': 0, leak: 2 });
  assert.equal(formatProblemCounts(counts), '1 corrupt, 1 invalid, 2 exact duplicates, 2 leaks');
  assert.equal(formatProblemCounts(countProblems([])), 'none');
});

test("what train skipped adds up with what clean counts: clean's near-duplicates in place of the leaked near-copies", () => {
  // train: 11 exact duplicates and 24 near-copies leaking into validation; clean: 76 near-duplicates.
  const skipped = [...Array.from({ length: 11 }, () => p('duplicate')), ...Array.from({ length: 24 }, () => p('near-duplicate', true))];
  const clean = Array.from({ length: 76 }, () => p('near-duplicate'));
  assert.equal(describeSkipped(skipped, clean, 447), 'skipped 35 of 447 file(s): 11 exact duplicates, 24 leaks. `happysad clean` reports 87 problem file(s) here: 11 exact duplicates, 76 near-duplicates. Of its 76 near-copies, 24 would leak into evaluation and are left out; the other 52 stay in training (a near-copy within one split does no harm)');
  // Nothing near-duplicated: no second sentence.
  assert.equal(describeSkipped([p('corrupt')], [], 10), 'skipped 1 of 10 file(s): 1 corrupt');
  // Evaluate on all images: no leaks, every near-copy scored.
  assert.match(describeSkipped([p('duplicate')], [p('near-duplicate'), p('near-duplicate')], 20), /clean` reports 3 problem file\(s\) here: 1 exact duplicate, 2 near-duplicates\. Of its 2 near-copies, none would leak into evaluation, so all stay in training \(a near-copy within one split does no harm\)$/);
});
