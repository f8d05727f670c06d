/** What ranking a mistake needs of an evaluated image. */
export interface ScoredImage {
  file: string;
  truth: string;
  label: string;
  /** p(positive class). */
  score: number;
}

/**
 * The wrongly labelled images the model was surest about, surest first: the ones whose score lies
 * furthest from the threshold on the wrong side. They show what a model has systematically
 * learned wrong (or where the labels are wrong), where mistakes near the threshold are mere noise.
 * Ties keep file order, so the choice is stable from run to run.
 */
export function confidentMistakes<T extends ScoredImage>(images: readonly T[], threshold: number, limit: number): (T & { margin: number })[] {
  return images
    .filter((r) => r.label !== r.truth)
    .map((r) => ({ ...r, margin: Math.abs(r.score - threshold) }))
    .sort((a, b) => b.margin - a.margin || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))
    .slice(0, Math.max(0, limit));
}
