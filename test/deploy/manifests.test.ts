/**
 * The deployment files, checked without Docker or a cluster: deploy/kubernetes/happysad.yaml
 * against the Kubernetes OpenAPI schema (kubernetes-models' validators, plus a strict pass that
 * rejects fields the API does not know, as `kubectl apply` does), and both it and the Dockerfile
 * against what `happysad serve` is: its port, /healthz, the queue-depth gauge, its timeout, and the
 * files it reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Service } from 'kubernetes-models/v1/Service';
import { DEFAULT_SERVE_OPTIONS } from '../../src/serve/serveOptions.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MANIFEST = join(root, 'deploy', 'kubernetes', 'happysad.yaml');
const SERVE_CMD = ['node', 'dist/cli/main.js', 'serve'];

// ---------- Kubernetes schema ----------

const require = createRequire(import.meta.url);
const modelsDir = dirname(require.resolve('kubernetes-models/package.json'));

/** The kinds the manifest may hold: the model class (its validate() is the OpenAPI schema) and its declaration file. */
const KINDS: Record<string, { Model: new (data: any) => { validate(): void }; dts: string }> = {
  'apps/v1 Deployment': { Model: Deployment, dts: 'apps/v1/Deployment.d.ts' },
  'v1 Service': { Model: Service, dts: 'v1/Service.d.ts' },
  'autoscaling/v2 HorizontalPodAutoscaler': { Model: HorizontalPodAutoscaler, dts: 'autoscaling/v2/HorizontalPodAutoscaler.d.ts' },
};

/**
 * The OpenAPI schema leaves out `additionalProperties: false`, so validate() passes a misspelled or
 * misplaced field (`readinesProbe`, or a probe on the pod instead of the container), which the API
 * server then rejects or drops. The field names are in kubernetes-models' declarations, one
 * interface per file, written by its generator: `"name"?: IType;` or `Array<IType>`, the type
 * imported from the file that declares it. A type alias (Quantity, IntOrString) or an inline map is
 * a leaf.
 */
const shapes = new Map<string, Map<string, string | undefined> | undefined>();
function shapeOf(file: string): Map<string, string | undefined> | undefined {
  if (shapes.has(file)) return shapes.get(file);
  const text = readFileSync(file, 'utf8');
  const body = /^export interface \w+(?: extends TypeMeta)? \{\n([\s\S]*?)\n\}/m.exec(text)?.[1];
  let fields: Map<string, string | undefined> | undefined;
  if (body !== undefined) {
    const imports = new Map([...text.matchAll(/^import \{ (\w+) \} from "([^"]+)";$/gm)].map((m) => [m[1]!, m[2]!]));
    fields = new Map();
    for (const [, name, type] of body.matchAll(/^ {4}"([^"]+)"\??: (.*)$/gm)) {
      const ref = /^(?:Array<)?(\w+)>?;$/.exec(type!)?.[1];
      const from = ref === undefined ? undefined : imports.get(ref);
      fields.set(name!, from === undefined ? undefined : declarationFile(file, from));
    }
  }
  shapes.set(file, fields);
  return fields;
}

function declarationFile(from: string, spec: string): string {
  if (spec.startsWith('.')) return join(dirname(from), `${spec}.d.ts`);
  const [scope, name, ...rest] = spec.split('/');
  const pkgDir = dirname(createRequire(from).resolve(`${scope}/${name}/package.json`));
  return join(pkgDir, `${rest.join('/')}.d.ts`);
}

function unknownFields(value: unknown, file: string, path: string, out: string[]): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => unknownFields(item, file, `${path}[${i}]`, out));
    return;
  }
  const fields = shapeOf(file);
  if (!fields) return;
  for (const [key, v] of Object.entries(value)) {
    if (!fields.has(key)) out.push(`${path}.${key}: unknown field`);
    else if (fields.get(key)) unknownFields(v, fields.get(key)!, `${path}.${key}`, out);
  }
}

/** What the API server would refuse in one document: schema errors and unknown fields. */
function schemaProblems(doc: any): string[] {
  const kind = KINDS[`${doc?.apiVersion} ${doc?.kind}`];
  if (!kind) return [`${doc?.apiVersion} ${doc?.kind}: not a kind this check knows (${Object.keys(KINDS).join(', ')})`];
  const problems: string[] = [];
  try {
    new kind.Model(doc).validate();
  } catch (err) {
    problems.push(`${doc.kind} ${doc.metadata?.name}: ${(err as Error).message}`);
  }
  unknownFields(doc, join(modelsDir, kind.dts), doc.kind, problems);
  return problems;
}

/** YAML as Kubernetes reads it: YAML 1.1, where a bare `yes` or `on` is a boolean, not a string. */
function parseManifest(text: string): any[] {
  return parseAllDocuments(text, { version: '1.1' }).map((d, i) => {
    assert.deepEqual(d.errors.map((e) => e.message), [], `YAML document ${i + 1}`);
    return d.toJS();
  }).filter((d) => d !== null);
}

const docs = parseManifest(readFileSync(MANIFEST, 'utf8'));
const byKind = (kind: string) => {
  const found = docs.filter((d) => d.kind === kind);
  assert.equal(found.length, 1, `one ${kind} in ${MANIFEST}`);
  return found[0];
};
const deployment = byKind('Deployment');
const service = byKind('Service');
const hpa = byKind('HorizontalPodAutoscaler');
const container = deployment.spec.template.spec.containers[0];

// ---------- Dockerfile ----------

interface Instruction { op: string; args: string }
interface Stage { from: string; name?: string; steps: Instruction[] }

/** Instructions by stage: comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): Stage[] {
  const lines = text.split('\n').filter((l) => !/^\s*#/.test(l));
  const joined = lines.join('\n').replace(/\\\n/g, ' ');
  const stages: Stage[] = [];
  for (const line of joined.split('\n')) {
    const m = /^\s*([A-Za-z]+)\s+(.*?)\s*$/.exec(line);
    if (!m) continue;
    const op = m[1]!.toUpperCase();
    const args = m[2]!.replace(/\s+/g, ' ');
    if (op === 'FROM') {
      const [from, as, name] = args.split(' ');
      stages.push({ from: from!, name: as?.toUpperCase() === 'AS' ? name : undefined, steps: [] });
    } else {
      assert.ok(stages.length > 0, `Dockerfile: ${op} before FROM`);
      stages.at(-1)!.steps.push({ op, args });
    }
  }
  return stages;
}

const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(dockerfile);
const runtime = stages.at(-1)!;
const last = (stage: Stage, op: string) => stage.steps.filter((s) => s.op === op).at(-1)?.args;
const envOf = (stage: Stage) => Object.fromEntries(stage.steps.filter((s) => s.op === 'ENV').flatMap((s) => [...s.args.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!])));
/** COPY's sources and destination, flags (--from, --chown) apart. */
const copies = (stage: Stage) => stage.steps.filter((s) => s.op === 'COPY').map((s) => {
  const words = s.args.split(' ');
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  return { from: flags.find((f) => f.startsWith('--from='))?.slice(7), sources: paths.slice(0, -1), dest: paths.at(-1)! };
});
const exposed = Number(last(runtime, 'EXPOSE')?.split('/')[0]);

// ---------- checks shared by the tests and their broken variants ----------

/** The number a container port reference (name or number) stands for. */
function portNumber(c: any, port: number | string): number | undefined {
  if (typeof port === 'number') return port;
  return c.ports?.find((p: any) => p.name === port)?.containerPort;
}

function assertProbesOnServedPort(d: any, servedPort: number): void {
  const c = d.spec.template.spec.containers[0];
  for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
    const get = c[probe]?.httpGet;
    assert.ok(get, `${probe} is an httpGet`);
    assert.equal(get.path, '/healthz', `${probe} path`);
    assert.equal(portNumber(c, get.port), servedPort, `${probe} port ${get.port} is the port serve listens on`);
  }
}

/** The value of a flag in the container's args, e.g. --concurrency 2 or --timeout=30. */
function flag(c: any, name: string): string | undefined {
  const args: string[] = [...(c.command ?? []), ...(c.args ?? [])];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}`) return args[i + 1];
    if (args[i]!.startsWith(`--${name}=`)) return args[i]!.slice(name.length + 3);
  }
  return undefined;
}

const cores = (q: string | number) => (typeof q === 'number' ? q : q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q));

// ---------- tests ----------

test('every manifest document is valid against the Kubernetes schema, with no unknown fields', () => {
  assert.deepEqual(docs.map((d) => `${d.apiVersion} ${d.kind}`).sort(), Object.keys(KINDS).sort());
  for (const doc of docs) assert.deepEqual(schemaProblems(doc), [], `${doc.kind} ${doc.metadata?.name}`);
});

test('broken manifests are rejected: wrong types, misplaced fields, probes on another port', () => {
  const copy = () => structuredClone(deployment);

  const badType = copy();
  badType.spec.template.spec.containers[0].ports[0].containerPort = '8080x';
  assert.match(schemaProblems(badType).join('\n'), /containerPort must be integer/);

  const badQuantity = structuredClone(hpa);
  badQuantity.spec.metrics.find((m: any) => m.type === 'Pods').pods.target.averageValue = 'four';
  assert.match(schemaProblems(badQuantity).join('\n'), /averageValue/);

  const noPort = copy();
  delete noPort.spec.template.spec.containers[0].readinessProbe.httpGet.port;
  assert.match(schemaProblems(noPort).join('\n'), /httpGet must have required property port/);

  const typo = copy();
  const c = typo.spec.template.spec.containers[0];
  c.readinesProbe = c.readinessProbe;
  delete c.readinessProbe;
  assert.deepEqual(schemaProblems(typo), ['Deployment.spec.template.spec.containers[0].readinesProbe: unknown field']);

  const misplaced = copy();
  misplaced.spec.template.spec.livenessProbe = misplaced.spec.template.spec.containers[0].livenessProbe;
  assert.deepEqual(schemaProblems(misplaced), ['Deployment.spec.template.spec.livenessProbe: unknown field']);

  // YAML 1.1, as Kubernetes reads it: a bare `on` is a boolean, and annotations are strings.
  const yaml11 = readFileSync(MANIFEST, 'utf8').replace('prometheus.io/scrape: "true"', 'prometheus.io/scrape: on');
  assert.match(schemaProblems(parseManifest(yaml11).find((d) => d.kind === 'Deployment')).join('\n'), /annotations.* must be string/);

  assert.equal(schemaProblems({ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler' }).length, 1);

  const wrongPort = copy();
  wrongPort.spec.template.spec.containers[0].readinessProbe.httpGet.port = 9090;
  assert.throws(() => assertProbesOnServedPort(wrongPort, exposed), /readinessProbe port 9090/);
  const wrongName = copy();
  wrongName.spec.template.spec.containers[0].livenessProbe.httpGet.port = 'metrics';
  assert.throws(() => assertProbesOnServedPort(wrongName, exposed), /livenessProbe port metrics/);
});

test('the probes ask /healthz on the port the image serves on', () => {
  assert.equal(exposed, 8080, 'the Dockerfile EXPOSEs 8080');
  assert.equal(Number(envOf(runtime).PORT), exposed, 'the image sets PORT to the EXPOSEd port');
  assert.equal(envOf(runtime).HOST, '0.0.0.0', 'the image listens beyond loopback');
  assert.equal(flag(container, 'port'), undefined, 'the Deployment does not move the port with --port');
  assert.equal(container.env?.find((e: any) => e.name === 'PORT'), undefined, 'nor with PORT');
  assert.deepEqual(container.ports.map((p: any) => p.containerPort), [exposed]);
  assertProbesOnServedPort(deployment, exposed);
  // The startup probe gives the model time to load: at least a minute.
  const sp = container.startupProbe;
  assert.ok(sp.periodSeconds * sp.failureThreshold >= 60, 'startupProbe allows >= 60 s');
});

test('the container runs serve as the image does, as a non-root user, with requests and limits', () => {
  assert.deepEqual(container.command, SERVE_CMD);
  const pod = deployment.spec.template.spec;
  const nonRoot = container.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot;
  const user = container.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
  assert.equal(nonRoot, true, 'runAsNonRoot');
  // The image's USER is a name (node); the kubelet can only check runAsNonRoot against a number.
  assert.ok(Number.isInteger(user) && user > 0, `runAsUser is a non-root uid, got ${user}`);
  assert.equal(container.securityContext?.allowPrivilegeEscalation, false);
  for (const kind of ['requests', 'limits']) {
    for (const r of ['cpu', 'memory']) assert.ok(container.resources?.[kind]?.[r], `resources.${kind}.${r}`);
  }
  // Node sees the machine's cores, not the pod's: the thread count must be given, one per CPU requested.
  assert.equal(Number(flag(container, 'concurrency')), cores(container.resources.requests.cpu), '--concurrency matches the CPU request');
  const ann = deployment.spec.template.metadata.annotations;
  assert.equal(ann['prometheus.io/scrape'], 'true');
  assert.equal(ann['prometheus.io/path'], '/metrics');
  assert.equal(Number(ann['prometheus.io/port']), exposed);
});

test('the grace period outlasts the preStop pause and the longest request serve drains', () => {
  const timeoutS = Number(flag(container, 'timeout') ?? DEFAULT_SERVE_OPTIONS.timeoutMs / 1000);
  const preStop = container.lifecycle?.preStop?.exec?.command;
  const pause = preStop?.[0] === 'sleep' ? Number(preStop[1]) : 0;
  const grace = deployment.spec.template.spec.terminationGracePeriodSeconds;
  // serve cuts the connections it still holds at its timeout + 1 s after SIGTERM (gracefulClose).
  assert.ok(grace > pause + timeoutS + 1, `terminationGracePeriodSeconds ${grace} > ${pause} + ${timeoutS} + 1`);
  assert.ok(grace > 30);
});

test('the Service selects the pods and reaches their served port', () => {
  const labels = deployment.spec.template.metadata.labels;
  for (const sel of [service.spec.selector, deployment.spec.selector.matchLabels]) {
    assert.ok(Object.keys(sel).length > 0);
    for (const [k, v] of Object.entries(sel)) assert.equal(labels[k], v, `pod label ${k}`);
  }
  assert.equal(service.spec.type ?? 'ClusterIP', 'ClusterIP');
  assert.equal(service.spec.ports.length, 1);
  assert.equal(service.spec.ports[0].port, 80);
  assert.equal(portNumber(container, service.spec.ports[0].targetPort), exposed);
});

test('the HPA scales the Deployment on CPU and on happysad_queue_depth', () => {
  assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
  assert.ok(hpa.spec.minReplicas >= 1 && hpa.spec.minReplicas <= hpa.spec.maxReplicas);
  const pods = hpa.spec.metrics.filter((m: any) => m.type === 'Pods');
  assert.deepEqual(pods.map((m: any) => [m.pods.metric.name, m.pods.target.type]), [['happysad_queue_depth', 'AverageValue']]);
  assert.ok(hpa.spec.metrics.some((m: any) => m.type === 'Resource' && m.resource.name === 'cpu'));
  // The gauge is the server's: renaming it there would leave the HPA reading nothing.
  assert.match(readFileSync(join(root, 'src', 'serve', 'serverMetrics.ts'), 'utf8'), /'happysad_queue_depth'/);
  // The manifest shows the prometheus-adapter rule that makes the metric exist for the HPA.
  assert.match(readFileSync(MANIFEST, 'utf8'), /seriesQuery: 'happysad_queue_depth\{/);
});

test('Dockerfile: Debian Node 20 in every stage, nothing fetched but npm ci, non-root, runs serve', () => {
  assert.ok(stages.length >= 2, 'multi-stage');
  for (const s of stages) assert.equal(s.from, 'node:24-bookworm-slim');
  assert.doesNotMatch(dockerfile.replace(/^\s*#.*$/gm, ''), /\b(curl|wget)\b/);
  for (const s of stages) {
    assert.ok(!s.steps.some((i) => i.op === 'ADD'), 'no ADD (it can fetch URLs); COPY only');
    for (const run of s.steps.filter((i) => i.op === 'RUN')) {
      for (const cmd of run.args.split('&&').map((c) => c.trim())) {
        assert.match(cmd, /^npm (ci|run build|prune)( --[\w=-]+)*$/, `RUN runs only npm ci, the build and the prune: ${cmd}`);
      }
    }
  }
  assert.equal(last(runtime, 'USER'), 'node');
  assert.equal(envOf(runtime).NODE_ENV, 'production');
  assert.deepEqual(JSON.parse(last(runtime, 'CMD')!), SERVE_CMD);
  const health = last(runtime, 'HEALTHCHECK')!;
  assert.match(health, /CMD \["node", "-e", .*\/healthz/);
  // The HEALTHCHECK's script runs as written: it must be valid JavaScript.
  const script = JSON.parse(health.slice(health.indexOf('['))).at(-1);
  assert.doesNotThrow(() => new Function(script));
});

test('Dockerfile: the build stage gets every source the build reads, and .dockerignore keeps none out', () => {
  const build = stages.find((s) => s.name === 'build')!;
  const sources = copies(build).flatMap((c) => c.sources);
  const needed = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts', 'models', 'web'];
  needed.push(...(JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')).include as string[]));
  for (const p of needed) assert.ok(sources.includes(p), `the build stage copies ${p}`);
  // package*.json come first, alone, so the npm ci layer is reused while only sources change.
  const first = build.steps.findIndex((s) => s.op === 'RUN');
  assert.match(build.steps[first]!.args, /^npm ci /);
  assert.deepEqual(copies({ ...build, steps: build.steps.slice(0, first) }).flatMap((c) => c.sources), ['package.json', 'package-lock.json']);

  const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  assert.ok(!ignored.some((p) => p.startsWith('!')), 'no exceptions, which this check does not read');
  const pattern = (p: string) => new RegExp(`^${p.replace(/^\/|\/$/g, '').replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\//g, '(.*/)?').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}(/.*)?$`);
  for (const src of sources) {
    assert.ok(existsSync(join(root, src)), `${src} exists`);
    for (const p of ignored) assert.ok(!pattern(p).test(src), `.dockerignore ${p} keeps ${src} out of the build`);
  }
  for (const out of ['node_modules', 'dist', '.git']) assert.ok(ignored.some((p) => pattern(p).test(out)), `.dockerignore keeps ${out} out`);
});

test('Dockerfile: the runtime stage copies what serve reads, all of it there after npm run build', () => {
  const workdir = (s: Stage) => last(s, 'WORKDIR')!;
  const build = stages.find((s) => s.name === 'build')!;
  const copied = copies(runtime);
  for (const c of copied) {
    assert.equal(c.from, 'build', `${c.sources} comes from the build stage`);
    for (const src of c.sources) {
      assert.ok(src.startsWith(`${workdir(build)}/`), `${src} is inside the build's WORKDIR`);
      const rel = src.slice(workdir(build).length + 1);
      assert.ok(existsSync(join(root, rel)), `${rel} exists (run npm run build first)`);
      assert.equal(c.dest.replace(/^\.\//, ''), rel, `${rel} keeps its place, where packageRoot() looks for it`);
    }
  }
  const dests = copied.map((c) => c.dest.replace(/^\.\//, ''));
  for (const p of ['package.json', 'node_modules', 'dist', 'models/default', 'models/faces']) assert.ok(dests.includes(p), `the runtime stage copies ${p}`);
  // What those folders must hold for serve with the default model.
  for (const f of ['dist/cli/main.js', 'dist/browser/happysad.js', 'models/default/happysad.json', 'models/faces/blazeface-front.json', 'dist/page/index.html', 'dist/page/app.js']) {
    assert.ok(existsSync(join(root, f)), `${f} exists`);
  }
});
