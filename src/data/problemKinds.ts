import type { CleanProblem } from './cleanDataset.js';

/**
 * The words `clean`, `train` and `evaluate` all use for a file they leave out or flag, so that the
 * same folder gives the same numbers under the same names in each:
 * - corrupt: cannot be read or decoded (a folder that cannot be listed counts here too);
 * - invalid: readable, but not an image we take (not an image, unsupported format, too small, too large);
 * - exact-duplicate: the same bytes as another file (all copies, when they are labelled differently);
 * - near-duplicate: the same picture re-encoded, resized, mirrored or slightly cropped;
 * - leak: a copy (exact or near) in an evaluation split of a picture kept in an earlier split.
 */
export const PROBLEM_KINDS = ['corrupt', 'invalid', 'exact-duplicate', 'near-duplicate', 'leak'] as const;
export type ProblemKind = (typeof PROBLEM_KINDS)[number];

export type ProblemCounts = Record<ProblemKind, number>;

const WORDS: Record<ProblemKind, [one: string, many: string]> = {
  corrupt: ['corrupt', 'corrupt'],
  invalid: ['invalid', 'invalid'],
  'exact-duplicate': ['exact duplicate', 'exact duplicates'],
  'near-duplicate': ['near-duplicate', 'near-duplicates'],
  leak: ['leak', 'leaks'],
};

/** A leak is named by what it does to evaluation, whatever kind of copy it is. */
export function problemKind(p: Pick<CleanProblem, 'problem' | 'leak'>): ProblemKind {
  if (p.leak) return 'leak';
  switch (p.problem) {
    case 'corrupt':
    case 'unreadable':
      return 'corrupt';
    case 'duplicate':
      return 'exact-duplicate';
    case 'near-duplicate':
      return 'near-duplicate';
    default:
      return 'invalid';
  }
}

export function countProblems(problems: readonly Pick<CleanProblem, 'problem' | 'leak'>[]): ProblemCounts {
  const counts = Object.fromEntries(PROBLEM_KINDS.map((k) => [k, 0])) as ProblemCounts;
  for (const p of problems) counts[problemKind(p)]++;
  return counts;
}

/** "11 exact duplicates, 24 leaks": the kinds present, in PROBLEM_KINDS order; "none" when there are none. */
export function formatProblemCounts(counts: ProblemCounts): string {
  const parts = PROBLEM_KINDS.filter((k) => counts[k] > 0).map((k) => `${counts[k]} ${WORDS[k][counts[k] === 1 ? 0 : 1]}`);
  return parts.length ? parts.join(', ') : 'none';
}

/** The kind in words, with the finer problem where the kind alone hides it: "invalid (too-small)", "leak (near-duplicate)". */
export function describeProblemKind(p: Pick<CleanProblem, 'problem' | 'leak'>): string {
  const kind = problemKind(p);
  const word = WORDS[kind][0];
  const finer = kind === 'leak' ? (p.problem === 'duplicate' ? 'exact duplicate' : 'near-duplicate') : kind === 'invalid' || p.problem === 'unreadable' ? p.problem : undefined;
  return finer ? `${word} (${finer})` : word;
}

/**
 * What train or evaluate left out, said so that it adds up with what `clean` says of the same
 * folder. clean counts every near-duplicate copy as a problem (its --quarantine moves them); train
 * and evaluate keep copies within one split and leave out only those that would leak into
 * evaluation. `cleanNearDuplicates` are the near-duplicates as clean counts them (nearDuplicateProblems),
 * so the sentence can name clean's total and where the difference goes.
 */
export function describeSkipped(skipped: readonly CleanProblem[], cleanNearDuplicates: readonly CleanProblem[], files: number): string {
  const head = `skipped ${skipped.length} of ${files} file(s): ${formatProblemCounts(countProblems(skipped))}`;
  if (cleanNearDuplicates.length === 0) return head;
  // clean's view: the same broken files and exact copies, and its own near-duplicate list in place
  // of the near-copies left out here (those are a subset, by count, of clean's).
  const notNear = skipped.filter((p) => p.problem !== 'near-duplicate');
  const cleanTotal = notNear.length + cleanNearDuplicates.length;
  const nearLeftOut = skipped.length - notNear.length;
  const kept = Math.max(0, cleanNearDuplicates.length - nearLeftOut);
  const near = cleanNearDuplicates.length;
  const copies = `${near} near-cop${near === 1 ? 'y' : 'ies'}`;
  return `${head}. \`happysad clean\` reports ${cleanTotal} problem file(s) here: ${formatProblemCounts(countProblems([...notNear, ...cleanNearDuplicates]))}. Of its ${copies}, ${nearLeftOut ? `${nearLeftOut} would leak into evaluation and ${nearLeftOut === 1 ? 'is' : 'are'} left out; the other ${kept} stay${kept === 1 ? 's' : ''} in training` : `none would leak into evaluation, so ${near === 1 ? 'it stays' : 'all stay'} in training`} (a near-copy within one split does no harm)`;
}
