/**
 * Training-step benchmark for the wasm training kernels.
 *
 *   node --import tsx bench/kernels.ts [--model A|B|AB] [--steps 10] [--batch 32] [--rounds 1]
 *                                      [--baseline] [--no-profile] [--profile-calls]
 *                                      [--profile-clock cpu|wall] [--torch] [--json]
 *
 * Every timing is reported twice: wall clock, and this process's CPU time. The machine is shared,
 * so wall time swings with other people's load; the wasm backend is single-threaded, so CPU time is
 * what a step costs when it has a core to itself. The per-kernel profile uses the CPU clock unless
 * --profile-clock wall.
 *
 * Builds Model A (128x128x3) and/or Model B (256x256x3) with tfjs-layers, trains on random data
 * (Adam 1e-3, binary cross-entropy, optimizer.minimize over model.apply(x, {training: true})) and
 * prints the median ms per step over --steps steps after 2 warm-ups, a per-kernel profile of one
 * step, and the median inference batch ms.
 *
 * --baseline measures what the backend ships: only the missing Conv2DBackpropFilter is supplied,
 *   as a transposed forward convolution (the formulation of the first measurement), and every
 *   shipped kernel is left as is. It is the "before" number.
 * --torch alternates --rounds rounds of this benchmark with ../shared/peers/torch_reference.py
 *   --threads 1 (the wasm backend is single-threaded in Node), run twice per round (its own wall
 *   clock, then with its timer swapped for process CPU time), and prints the ratios of medians.
 *
 * Our SIMD GEMM uses fused multiply-add (relaxed SIMD: standard from Node 22, switched on at run
 * time on Node 20) unless HAPPYSAD_FMA=0. The header line says which ran.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { initEngine } from '../src/engine/engine.js';
import { simdFlavour, simdFor } from '../src/engine/kernels/simd.js';

const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(`--${name}`);
const option = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
};
const models = option('model', 'A').toUpperCase().split('').filter((m) => m === 'A' || m === 'B') as ('A' | 'B')[];
const steps = Math.max(1, Number(option('steps', '10')));
const batch = Number(option('batch', '32'));
const rounds = Math.max(1, Number(option('rounds', '1')));
const baseline = flag('baseline');
const withTorch = flag('torch');
const withProfile = !flag('no-profile');
const asJson = flag('json');
const profileClock = option('profile-clock', 'cpu') === 'wall' ? 'wall' : 'cpu';
const here = path.dirname(fileURLToPath(import.meta.url));
const torchScript = option('torch-script', path.resolve(here, '../../shared/peers/torch_reference.py'));
const python = option('python', '/usr/bin/python3');

const log = (...parts: unknown[]): void => {
  if (!asJson) console.log(...parts);
};

function buildModel(arch: 'A' | 'B'): tf.Sequential {
  const conv = (filters: number, inputShape?: number[]) =>
    tf.layers.conv2d({ filters, kernelSize: 3, activation: 'relu', padding: 'valid', ...(inputShape ? { inputShape } : {}) });
  const pool = () => tf.layers.maxPooling2d({ poolSize: 2, strides: 2 });
  const m = tf.sequential();
  if (arch === 'A') {
    m.add(conv(32, [128, 128, 3]));
    m.add(pool());
    m.add(conv(64));
    m.add(pool());
    m.add(conv(128));
    m.add(pool());
    m.add(tf.layers.flatten());
    m.add(tf.layers.dense({ units: 128, activation: 'relu' }));
    m.add(tf.layers.dropout({ rate: 0.5 }));
  } else {
    m.add(conv(16, [256, 256, 3]));
    m.add(pool());
    m.add(tf.layers.dropout({ rate: 0.25 }));
    m.add(conv(32));
    m.add(pool());
    m.add(tf.layers.dropout({ rate: 0.25 }));
    m.add(conv(16));
    m.add(pool());
    m.add(tf.layers.dropout({ rate: 0.25 }));
    m.add(tf.layers.flatten());
    m.add(tf.layers.dense({ units: 256, activation: 'relu' }));
    m.add(tf.layers.dropout({ rate: 0.5 }));
  }
  m.add(tf.layers.dense({ units: 1, activation: 'sigmoid' }));
  return m;
}

/**
 * CPU time of this process. The machine is shared, so wall time swings with other people's load;
 * the wasm backend is single-threaded, so CPU time is what one step costs when it has a core.
 */
function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const n = v.length;
  return n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

interface TfResult {
  arch: 'A' | 'B';
  params: number;
  trainStepMs: number;
  trainStepCpuMs: number;
  inferBatchMs: number;
  inferBatchCpuMs: number;
  stepMs: number[];
  stepCpuMs: number[];
  profile?: { name: string; ms: number; share: number; calls: number }[];
  profileCalls?: { name: string; ms: number; shapes: string }[];
  profileTotalMs?: number;
  leakedTensorsPerStep: number;
}

async function measureTf(arch: 'A' | 'B'): Promise<TfResult> {
  const model = buildModel(arch);
  const side = arch === 'A' ? 128 : 256;
  const optimizer = tf.train.adam(1e-3);
  const x = tf.randomUniform([batch, side, side, 3]);
  const y = tf.cast(tf.greater(tf.randomUniform([batch, 1]), 0.5), 'float32');
  const step = (): void => {
    const loss = optimizer.minimize(() => {
      const pred = model.apply(x, { training: true }) as tf.Tensor;
      return tf.mean(tf.metrics.binaryCrossentropy(y, pred)) as tf.Scalar;
    }, true);
    loss!.dataSync();
    loss!.dispose();
  };
  step();
  step();
  const before = tf.memory().numTensors;
  const stepMs: number[] = [];
  const stepCpuMs: number[] = [];
  for (let i = 0; i < steps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    step();
    stepMs.push(performance.now() - t0);
    stepCpuMs.push(cpuMsSince(c0));
  }
  const leakedTensorsPerStep = (tf.memory().numTensors - before) / steps;

  let profile: TfResult['profile'];
  let profileTotalMs: number | undefined;
  let profileCalls: TfResult['profileCalls'];
  if (withProfile) {
    const info = await withCpuKernelClock(() => tf.profile(() => step()));
    const byName = new Map<string, { ms: number; calls: number }>();
    for (const k of info.kernels) {
      const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
      e.ms += Number(k.kernelTimeMs) || 0;
      e.calls++;
      byName.set(k.name, e);
    }
    profileTotalMs = [...byName.values()].reduce((s, e) => s + e.ms, 0);
    profileCalls = info.kernels
      .map((k) => ({ name: k.name, ms: Number(k.kernelTimeMs) || 0, shapes: k.inputShapes.map((sh) => `[${sh}]`).join(' ') }))
      .sort((a, b) => b.ms - a.ms);
    profile = [...byName.entries()]
      .map(([name, e]) => ({ name, ms: e.ms, calls: e.calls, share: e.ms / profileTotalMs! }))
      .sort((a, b) => b.ms - a.ms);
  }

  const inferMs: number[] = [];
  const inferCpuMs: number[] = [];
  for (let i = 0; i < steps + 2; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const p = model.predict(x) as tf.Tensor;
    p.dataSync();
    p.dispose();
    if (i >= 2) {
      inferMs.push(performance.now() - t0);
      inferCpuMs.push(cpuMsSince(c0));
    }
  }
  const params = model.countParams();
  x.dispose();
  y.dispose();
  optimizer.dispose();
  model.dispose();
  return {
    arch,
    params,
    trainStepMs: median(stepMs),
    trainStepCpuMs: median(stepCpuMs),
    inferBatchMs: median(inferMs),
    inferBatchCpuMs: median(inferCpuMs),
    stepMs,
    stepCpuMs,
    profile,
    profileCalls,
    profileTotalMs,
    leakedTensorsPerStep,
  };
}

/**
 * tf.profile times each kernel with the backend's wall clock; on a shared machine that charges other
 * people's load to whichever kernel was running. The wasm backend runs kernels synchronously on this
 * thread, so timing them with this process's CPU clock instead is exact and load-independent.
 */
async function withCpuKernelClock<T>(f: () => Promise<T>): Promise<T> {
  const be = tf.backend() as unknown as { time(f: () => void): Promise<{ kernelMs: number }> };
  const wallTime = be.time;
  if (profileClock === 'cpu') {
    be.time = async (g: () => void) => {
      const c0 = process.cpuUsage();
      g();
      return { kernelMs: cpuMsSince(c0) };
    };
  }
  try {
    return await f();
  } finally {
    be.time = wallTime;
  }
}

interface TorchResult {
  train_step_ms: number;
  infer_batch_ms: number;
}

/**
 * Runs the unmodified reference script. With `cpu`, its timer (time.perf_counter) is swapped for
 * time.process_time, so its medians are CPU time like ours; with --threads 1 the two clocks agree
 * on an idle machine.
 */
function measureTorch(arch: 'A' | 'B', cpu: boolean): TorchResult | undefined {
  const args = ['--arch', arch, '--threads', '1', '--batch', String(batch), '--steps', String(steps), '--json'];
  const launcher = cpu
    ? ['-c', 'import sys, time; time.perf_counter = time.process_time; sys.argv = sys.argv[1:]; exec(compile(open(sys.argv[0]).read(), sys.argv[0], "exec"))', torchScript, ...args]
    : [torchScript, ...args];
  const r = spawnSync(python, launcher, { encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`torch reference failed (${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return undefined;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as TorchResult;
}

/** The "before" state: shipped kernels, plus the missing filter gradient as a transposed forward convolution. */
function registerBaselineFilterGrad(): void {
  const conv2d = tf.getKernel('Conv2D', 'wasm')!.kernelFunc;
  const transpose = tf.getKernel('Transpose', 'wasm')!.kernelFunc;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const a = attrs as unknown as { strides: number | [number, number]; pad: 'valid' | 'same'; filterShape: number[] };
      const [sh, sw] = typeof a.strides === 'number' ? [a.strides, a.strides] : a.strides;
      const be = backend as { disposeData(id: object): void };
      const xT = transpose({ inputs: { x }, backend, attrs: { perm: [3, 1, 2, 0] } }) as tf.TensorInfo;
      const dyT = transpose({ inputs: { x: dy }, backend, attrs: { perm: [1, 2, 0, 3] } }) as tf.TensorInfo;
      const g = conv2d({ inputs: { x: xT, filter: dyT }, backend, attrs: { strides: 1, dilations: [sh, sw], pad: a.pad, dataFormat: 'NHWC' } }) as tf.TensorInfo;
      const out = transpose({ inputs: { x: g }, backend, attrs: { perm: [1, 2, 0, 3] } }) as tf.TensorInfo;
      be.disposeData(xT.dataId);
      be.disposeData(dyT.dataId);
      be.disposeData(g.dataId);
      return out;
    },
  });
}

async function main(): Promise<void> {
  if (baseline) {
    registerBaselineFilterGrad();
    await tf.setBackend('wasm');
    await tf.ready();
  } else {
    await initEngine();
  }
  if (withTorch && !existsSync(torchScript)) throw new Error(`torch reference not found at ${torchScript}`);
  if (!baseline) simdFor(tf.backend() as never);
  const kernels = baseline ? 'shipped (baseline)' : `happysad training kernels, SIMD ${simdFlavour()}`;
  log(`backend ${tf.getBackend()}, kernels: ${kernels}, batch ${batch}, ${steps} timed steps after 2 warm-ups, node ${process.version}`);
  const summary: Record<string, unknown>[] = [];
  for (const arch of models) {
    const tfRuns: TfResult[] = [];
    const torchRuns: TorchResult[] = [];
    const torchCpuRuns: TorchResult[] = [];
    for (let r = 0; r < rounds; r++) {
      const res = await measureTf(arch);
      tfRuns.push(res);
      log(`Model ${arch} (${res.params} params) round ${r + 1}: train step median ${res.trainStepMs.toFixed(0)} ms wall ` +
        `[${res.stepMs.map((v) => v.toFixed(0)).join(' ')}], ${res.trainStepCpuMs.toFixed(0)} ms cpu ` +
        `[${res.stepCpuMs.map((v) => v.toFixed(0)).join(' ')}]; inference batch median ${res.inferBatchMs.toFixed(0)} ms wall, ` +
        `${res.inferBatchCpuMs.toFixed(0)} ms cpu; tensors leaked/step ${res.leakedTensorsPerStep}`);
      if (res.profile && r === 0) {
        log(`  profile of one step (${profileClock} clock; sum of kernel times ${res.profileTotalMs!.toFixed(0)} ms):`);
        for (const k of res.profile.slice(0, 20)) {
          log(`    ${k.name.padEnd(24)} ${k.ms.toFixed(1).padStart(8)} ms ${(100 * k.share).toFixed(1).padStart(5)}%  x${k.calls}`);
        }
        if (flag('profile-calls')) {
          log('  slowest kernel calls:');
          for (const k of res.profileCalls!.slice(0, Number(option('profile-calls-top', '30')))) log(`    ${k.name.padEnd(24)} ${k.ms.toFixed(1).padStart(8)} ms  ${k.shapes}`);
        }
      }
      if (withTorch) {
        const t = measureTorch(arch, false);
        const c = measureTorch(arch, true);
        if (t) torchRuns.push(t);
        if (c) torchCpuRuns.push(c);
        log(`  torch --threads 1 round ${r + 1}: train step ${t?.train_step_ms} ms wall, ${c?.train_step_ms} ms cpu; ` +
          `inference batch ${t?.infer_batch_ms} ms wall, ${c?.infer_batch_ms} ms cpu`);
      }
    }
    const trainMs = median(tfRuns.flatMap((t) => t.stepMs));
    const trainCpuMs = median(tfRuns.flatMap((t) => t.stepCpuMs));
    const inferMs = median(tfRuns.map((t) => t.inferBatchMs));
    const inferCpuMs = median(tfRuns.map((t) => t.inferBatchCpuMs));
    const entry: Record<string, unknown> = {
      arch,
      kernels,
      train_step_ms: +trainMs.toFixed(1),
      train_step_cpu_ms: +trainCpuMs.toFixed(1),
      infer_batch_ms: +inferMs.toFixed(1),
      infer_batch_cpu_ms: +inferCpuMs.toFixed(1),
    };
    if (torchRuns.length && torchCpuRuns.length) {
      const round1 = (v: number) => Math.round(v * 10) / 10;
      const tt = round1(median(torchRuns.map((t) => t.train_step_ms)));
      const ti = round1(median(torchRuns.map((t) => t.infer_batch_ms)));
      const ct = round1(median(torchCpuRuns.map((t) => t.train_step_ms)));
      const ci = round1(median(torchCpuRuns.map((t) => t.infer_batch_ms)));
      Object.assign(entry, {
        torch_train_step_ms: tt,
        torch_train_step_cpu_ms: ct,
        torch_infer_batch_ms: ti,
        torch_infer_batch_cpu_ms: ci,
        train_ratio_wall: +(trainMs / tt).toFixed(2),
        train_ratio_cpu: +(trainCpuMs / ct).toFixed(2),
        infer_ratio_wall: +(inferMs / ti).toFixed(2),
        infer_ratio_cpu: +(inferCpuMs / ci).toFixed(2),
      });
      log(`Model ${arch} vs torch --threads 1: train step ${trainMs.toFixed(0)} / ${tt} ms wall = ${(trainMs / tt).toFixed(2)}x, ` +
        `${trainCpuMs.toFixed(0)} / ${ct} ms cpu = ${(trainCpuMs / ct).toFixed(2)}x; inference ${inferMs.toFixed(0)} / ${ti} ms wall = ` +
        `${(inferMs / ti).toFixed(2)}x, ${inferCpuMs.toFixed(0)} / ${ci} ms cpu = ${(inferCpuMs / ci).toFixed(2)}x`);
    }
    summary.push(entry);
  }
  console.log(JSON.stringify(summary));
}

await main();
