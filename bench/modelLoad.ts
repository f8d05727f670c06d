/**
 * Time to build a model bundle from its files already in memory: tf.loadLayersModel against
 * modelFromArtifacts (zero-initialised, then the weights), which Node's readBundle and the
 * browser build use. A page that tries several backends builds once per backend.
 *
 *   node --import tsx bench/modelLoad.ts [MODEL_DIR]   (default: models/default)
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultModelDir } from '../src/model/defaultModel.js';
import { initEngine, tf } from '../src/engine/engine.js';
import { modelFromArtifacts } from '../src/engine/modelFromTopology.js';
await initEngine();
const dir = process.argv[2] ?? defaultModelDir();
const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
const bytes = await readFile(join(dir, json.weightsManifest[0].paths[0]));
const data = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
const specs = json.weightsManifest[0].weights;
const t: Record<string, number[]> = { loadLayersModel: [], modelFromArtifacts: [] };
for (let r = 0; r < 9; r++) {
  for (const k of Object.keys(t)) {
    const s = performance.now();
    const m = k === 'loadLayersModel' ? await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData: data })) : await modelFromArtifacts(tf, json.modelTopology, specs, data);
    t[k]!.push(performance.now() - s);
    m.dispose();
  }
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
for (const [k, v] of Object.entries(t)) console.log(`${k}: median ${med(v).toFixed(1)} ms of 9 (${v.map((x) => x.toFixed(0)).join(' ')})`);
console.log(`ratio ${(med(t.modelFromArtifacts!) / med(t.loadLayersModel!)).toFixed(2)}`);
