import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// The layers of src/, checked from the import statements themselves, type-only ones included: a
// type that a lower layer borrows from a higher one ties the two as surely as a value does, even
// though it vanishes at run time. A change that makes a lower layer reach up, or two folders import
// each other, fails here with the offending import named.

const root = fileURLToPath(new URL('../src/', import.meta.url));

/** Top-level folder of a file under src/ (src/engine/kernels/x.ts → engine); index.ts is the façade. */
const folderOf = (file: string) => (file === 'index.ts' ? '(index)' : file.includes('/') ? file.split('/')[0]! : '(root)');

function sourceFiles(dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [relative(root, join(dir, e.name))] : []));
}

interface Edge { from: string; to: string; spec: string }

/**
 * Imports (and re-exports) of a file: relative ones resolved to src-relative paths, bare ones as
 * written. `values`: only those that load code at run time (what the portability check follows).
 */
function importsOf(file: string, { values = false } = {}): { local: string[]; bare: string[] } {
  const text = readFileSync(join(root, file), 'utf8');
  const local: string[] = [];
  const bare: string[] = [];
  const pattern = /^\s*(?:import|export)\s+(type\s+)?(?:([^'";]*?)\s+from\s+)?['"]([^'"]+)['"]/gm;
  for (const m of text.matchAll(pattern)) {
    const [, typeOnly, clause, spec] = m;
    if (values && typeOnly) continue;
    if (values && clause?.startsWith('{') && clause.slice(1, -1).split(',').map((s) => s.trim()).filter(Boolean).every((s) => s.startsWith('type '))) continue;
    if (spec!.startsWith('.')) local.push(normalize(join(dirname(file), spec!)).replace(/\.js$/, '.ts'));
    else bare.push(spec!);
  }
  // Lazy loads count too: `await import('...')` and createRequire(...)('...').
  for (const m of text.matchAll(/(?:import|load|require)\(\s*['"]([^'"]+)['"]\s*\)/g)) if (!m[1]!.startsWith('.')) bare.push(m[1]!);
  return { local, bare };
}

const files = sourceFiles();
const edges: Edge[] = files.flatMap((f) => importsOf(f).local.map((t) => ({ from: f, to: t, spec: t })));

test('no import cycle between the folders of src/', () => {
  const graph = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    const [a, b] = [folderOf(from), folderOf(to)];
    if (a !== b) (graph.get(a) ?? graph.set(a, new Set()).get(a)!).add(b);
  }
  // Depth-first search; a back edge is a cycle, reported with the imports that make it.
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (n: string): void => {
    state.set(n, 'open');
    path.push(n);
    for (const m of graph.get(n) ?? []) {
      if (state.get(m) === 'open') {
        const cycle = [...path.slice(path.indexOf(m)), m];
        const how = cycle.slice(0, -1).map((a, i) => edges.find((e) => folderOf(e.from) === a && folderOf(e.to) === cycle[i + 1]))
          .map((e) => `${e!.from} → ${e!.to}`);
        assert.fail(`folder cycle ${cycle.join(' → ')}:\n  ${how.join('\n  ')}`);
      }
      if (!state.has(m)) visit(m);
    }
    path.pop();
    state.set(n, 'done');
  };
  for (const n of graph.keys()) if (!state.has(n)) visit(n);
});

/**
 * Lower layers never import higher ones. Within the pipeline layer the folders may use each other
 * (evaluate scores what predict decides), as long as the test above finds no cycle.
 */
const LAYERS: string[][] = [
  ['base'],
  ['io', 'engine', 'pixels'],
  ['input'],
  ['runtime'],
  ['model'],
  ['data', 'faces', 'evaluate', 'predict', 'train', 'report', 'ensemble', 'interop'],
  ['serve', 'browser', 'batch'],
  ['(index)'],
];
const layerOf = (folder: string) => LAYERS.findIndex((l) => l.includes(folder));

test('every folder of src/ is in a layer, and no import goes up a layer', () => {
  const folders = new Set(files.map(folderOf));
  for (const f of folders) assert.notEqual(layerOf(f), -1, `src/${f}/ is in no layer of test/architecture.test.ts; place it`);
  const up = edges.filter((e) => layerOf(folderOf(e.to)) > layerOf(folderOf(e.from)));
  assert.deepEqual(up.map((e) => `${e.from} → ${e.to}`), [], 'imports from a lower layer to a higher one');
});

/**
 * The portable core: pixels to model input, face detection on loaded nets, the forward pass,
 * output interpretation, metrics. It runs unchanged in a browser (browser/index.ts is the build
 * that does), so nothing it loads (directly or through what it imports) may be Node-only.
 */
const PORTABLE = [
  'browser/index.ts', 'pixels/resizePixels.ts', 'pixels/grayscale.ts', 'pixels/letterboxPixels.ts', 'input/modelInput.ts', 'faces/faceStep.ts',
  'faces/blazeFaceCore.ts', 'faces/cropFace.ts', 'faces/geometry.ts', 'runtime/forwardPass.ts', 'predict/interpretOutput.ts', 'predict/predictionRow.ts',
  'predict/faceTracker.ts', 'predict/trailingMean.ts', 'engine/kernels/registerConvKernels.ts', 'engine/modelFromTopology.ts',
  'evaluate/computeMetrics.ts', 'evaluate/scoreOutputs.ts', 'evaluate/bestThreshold.ts', 'input/preprocessSpec.ts', 'train/augmentBatch.ts',
];

test('the portable core loads nothing Node-only', () => {
  const nodeOnly = /^(node:|fs$|path$|os$|worker_threads$|sharp$|fastify|@fastify\/|h5wasm$|@vladmandic\/face-api)/;
  for (const start of PORTABLE) {
    const seen = new Set<string>();
    const stack = [start];
    while (stack.length) {
      const f = stack.pop()!;
      if (seen.has(f)) continue;
      seen.add(f);
      const { local, bare } = importsOf(f, { values: true });
      const bad = bare.filter((b) => nodeOnly.test(b));
      assert.deepEqual(bad, [], `${start} loads ${f}, which imports ${bad.join(', ')}`);
      stack.push(...local);
    }
  }
});
