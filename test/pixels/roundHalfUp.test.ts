import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Random } from '../../src/base/random.js';
import { roundHalfUp } from '../../src/pixels/roundHalfUp.js';

// roundHalfUp stands in for Math.round in the crop and gray loops: it must agree on every value
// those loops can give (0 to 255.x), halves and the doubles either side of them included.

test('roundHalfUp is Math.round on halves, on the doubles beside them, and on random values in [0, 256)', () => {
  const tricky: number[] = [0, 0.5, 0.49999999999999994, 255, 255.5];
  for (let k = 0; k <= 256; k++) {
    for (const x of [k, k + 0.5, k - 0.5]) {
      if (x < 0) continue;
      tricky.push(x);
      // The neighbouring doubles: x * (1 +- 2^-52) and x +- the smallest steps near it.
      for (const e of [Number.EPSILON, 2 * Number.EPSILON, Number.EPSILON / 2]) tricky.push(x * (1 + e), x * (1 - e), x + e, Math.max(0, x - e));
    }
  }
  const random = new Random(12345);
  const next = () => random.next();
  for (let i = 0; i < 200_000; i++) tricky.push(next() * 256, Math.floor(next() * 256) + 0.5 + (next() - 0.5) * 1e-12);
  for (const x of tricky) if (x >= 0) assert.equal(roundHalfUp(x), Math.round(x), `x = ${x}`);
});
