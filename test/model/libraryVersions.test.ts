import { test } from 'node:test';
import assert from 'node:assert/strict';
import { libraryVersions } from '../../src/model/libraryVersions.js';

// Bundles record these so a result can be traced to the code that made it; sharp's package.json
// is not in its "exports", which once made it "unknown".
test('every library version recorded in a bundle is a real version', () => {
  const v = libraryVersions();
  for (const pkg of ['happysad', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', 'sharp', 'node']) {
    assert.match(v[pkg], /^\d+\.\d+\.\d+/, `${pkg}: ${v[pkg]}`);
  }
});
