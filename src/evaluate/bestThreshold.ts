/**
 * The cut on p(positive) that maximises balanced accuracy on validation: with imbalanced classes
 * 0.5 favours the larger one. Ties go to the cut nearest 0.5.
 */
export function bestThreshold(scores: ArrayLike<number>, isPositive: boolean[]): number {
  const order = Array.from(scores, (s, i) => [s, isPositive[i]] as const).sort((a, b) => a[0] - b[0]);
  const nPos = isPositive.filter(Boolean).length;
  const nNeg = isPositive.length - nPos;
  if (nPos === 0 || nNeg === 0) return 0.5;
  let best = 0.5;
  let bestScore = -1;
  // Cut below order[i]: everything from i up is called positive.
  let negBelow = 0;
  let posBelow = 0;
  for (let i = 0; i <= order.length; i++) {
    if (i === order.length || i === 0 || order[i][0] !== order[i - 1][0]) {
      const cut = i === 0 ? order[0][0] : i === order.length ? order[i - 1][0] + 1e-6 : (order[i - 1][0] + order[i][0]) / 2;
      const score = ((nPos - posBelow) / nPos + negBelow / nNeg) / 2;
      if (score > bestScore + 1e-12 || (Math.abs(score - bestScore) <= 1e-12 && Math.abs(cut - 0.5) < Math.abs(best - 0.5))) {
        bestScore = score;
        best = cut;
      }
    }
    if (i < order.length) {
      if (order[i][1]) posBelow++;
      else negBelow++;
    }
  }
  return best;
}
