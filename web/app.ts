// The page runs the model on the device when it can (happysad/browser at lib/happysad.js, the same
// bundle files and the same preprocessing code as the server), and otherwise posts photos and camera
// frames to POST /v1/predict. A switch under the header says which, and lets the user choose. On the
// device nothing is sent anywhere: no photo, no frame. Served as a static folder (npm run build:web)
// there is no server, and the page runs on the device only.
//
// Written against happysad/browser as any page would be: scripts/buildPage.ts bundles this file
// with the library's entry left as an import of ./lib/happysad.js, so the page runs the library's
// own code (model, tracker, smoothing, decision rule), never a copy.
import { loadModel, type BrowserModel, type BundleMetadata, type FrameStream, type PredictionRow } from '../src/browser/index.js';
import { LabelSmoother, type SteadyRow } from './labelSmoother.js';

const API = 'v1/predict'; // relative, so the page also works behind a proxy under a path prefix
const MAX_CONCURRENT_UPLOADS = 2; // the server's concurrency on two cores: more would only wait in its queue
const MAX_CARDS = 24;
const FRAME_MAX_SIDE = 640; // frames are downscaled before posting: the detector works at 512
const FRAME_QUALITY = 0.85;
const MIN_FRAME_INTERVAL_MS = 150; // leave headroom for other clients even when the server is fast
const SMOOTHING_SECONDS = 0.5; // long enough to stop flicker, short enough to follow a change
// A face unseen this long starts a new track: a busy server can take over a second per frame.
const TRACK_GAP_SECONDS = 3;

/** What the page needs of a model: GET v1/model's answer or the device model's happysad.json. */
type ModelInfo = Pick<BundleMetadata, 'name' | 'arch' | 'classes' | 'output' | 'positiveClass' | 'threshold' | 'preprocessing' | 'forcedChoice'>;

/** A result as the page shows it: the API's row for one image, or the same computed on the device. */
type Row = PredictionRow & { file?: string; error?: { code: string; message: string } };

type Where = 'device' | 'server';

/** The element with this id, which index.html has: a missing one is a page bug, said at once. */
function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`index.html has no #${id}`);
  return el as T;
}

let model: ModelInfo | null = null;
let server: ModelInfo | null = null; // GET v1/model when a happysad server is behind this page, else null (a static host)
let device: BrowserModel | null = null; // the on-device model (happysad/browser), when this browser can run it
let deviceProblem = ''; // why it cannot, when it cannot
let where: Where | null = null;
// Forced choice (the model's pair only, e.g. happy or sad, never neutral), as `--forced-choice` and `?forced_choice=true` answer.
let forcedChoice = false;

// ---------------------------------------------------------------- model info and where it runs

async function loadModelInfo(): Promise<void> {
  const info = $('model-info');
  // A static build says so in its page (npm run build:web), so it never asks for a server it lacks.
  const onStaticHost = document.querySelector<HTMLMetaElement>('meta[name="happysad-host"]')?.content === 'static';
  server = onStaticHost ? null : await fetch('v1/model').then(async (res) => (res.ok ? ((await jsonOf(res)) as ModelInfo | null) : null), () => null);
  try {
    if (typeof WebAssembly !== 'object') throw new Error('this browser has no WebAssembly');
    device = await loadModel(server ? 'v1/model/files/' : 'model/');
  } catch (err) {
    deviceProblem = (err as Error).message;
  }
  model = server || device?.metadata || null;
  if (!model) {
    info.textContent = `Could not load the model: ${deviceProblem}`;
    $('where-status').textContent = 'Nothing can classify photos here: there is no happysad server behind this page and the model did not load in the browser.';
    return;
  }
  const faces = model.preprocessing?.faces;
  info.textContent = `Model “${model.name}” (${model.arch}): ${model.classes.join(' / ')}` +
    (faces ? ', classifies each face it finds.' : ', classifies whole images.');
  $<HTMLButtonElement>('where-device').disabled = !device;
  $<HTMLButtonElement>('where-server').disabled = !server;
  if (!server) for (const el of document.querySelectorAll<HTMLElement>('.server-only')) el.hidden = true;
  setWhere(device ? 'device' : 'server');
  showForcedChoice(model);
}

/** The forced-choice switch, for a model that has a pair to force (a neither class beside it). */
function showForcedChoice(m: ModelInfo): void {
  const pair = m.forcedChoice?.between;
  if (!pair) return;
  const neither = m.classes.filter((c) => !pair.includes(c));
  $('forced-choice-label').textContent = `${pair.join(' or ')} only`;
  $('forced-choice-note').textContent = `(forced choice: never ${neither.join(' or ')})`;
  $('forced-choice-row').hidden = false;
  $<HTMLInputElement>('forced-choice').addEventListener('change', (e) => {
    forcedChoice = (e.target as HTMLInputElement).checked;
  });
}

function setWhere(next: Where): void {
  if (next === where) return;
  if (camera.running) stopCamera();
  where = next;
  $('where-device').setAttribute('aria-pressed', String(where === 'device'));
  $('where-server').setAttribute('aria-pressed', String(where === 'server'));
  const engine = device?.engine;
  const how = engine ? `${engine.backend}${engine.simd ? ', SIMD' : ''}${engine.threads > 1 ? `, ${engine.threads} threads` : ''}` : '';
  $('where-status').textContent = where === 'device'
    ? `On this device (${how}): photos and camera frames never leave it.${server ? '' : ' (A static page: there is no server to switch to.)'}`
    : `On the server: photos and camera frames are sent to it, one at a time, and not stored.${device ? '' : ` This browser cannot run the model itself (${deviceProblem}).`}`;
  $('camera-privacy').textContent = where === 'device'
    ? 'The camera is read on this device only; no frame is sent anywhere.'
    : 'Frames go to this server only, one at a time, and are not stored.';
}

// ---------------------------------------------------------------- talking to the API

class ApiProblem extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/** The JSON body of a response, or null when it is not JSON (a proxy's error page, say). */
async function jsonOf(res: Response): Promise<unknown> {
  try {
    return await res.json();
  } catch {
    return null;
  }
}

function problemOf(res: Response, body: unknown): ApiProblem {
  const error = (body as { error?: { code: string; message: string } } | null)?.error || { code: `http-${res.status}`, message: `the server answered ${res.status} ${res.statusText}` };
  const retry = Number(res.headers.get('retry-after'));
  return new ApiProblem(error.code, error.message, res.status, Number.isFinite(retry) && retry > 0 ? retry : undefined);
}

/**
 * Posts one image and returns its result row. A named file goes as multipart, so the server's
 * messages name it; a camera frame goes as the raw body. An image the server refused still comes
 * back as a row with `error` (the API lists it in `results`); only a refusal of the request
 * itself (busy, timeout, too large) throws.
 */
async function predict(blob: Blob, { name, signal }: { name?: string; signal?: AbortSignal } = {}): Promise<Row> {
  if (where === 'device') return predictOnDevice(blob, name || 'frame');
  let body: Blob | FormData = blob;
  const headers: Record<string, string> = {};
  if (name) {
    body = new FormData();
    body.append('image', blob, name);
  } else {
    headers['content-type'] = blob.type || 'application/octet-stream';
  }
  const res = await fetch(forcedChoice ? `${API}?forced_choice=true` : API, { method: 'POST', body, headers, signal });
  const json = (await jsonOf(res)) as { results?: Row[] } | null;
  if (json && Array.isArray(json.results) && json.results.length) return json.results[0]!;
  throw problemOf(res, json);
}

/** The same row as the API's, computed here; a photo the browser cannot read is a row with `error`, as the API gives it. */
async function predictOnDevice(source: Blob | HTMLVideoElement, name: string, stream?: FrameStream): Promise<Row> {
  try {
    if (!device) throw new Error('the model is not loaded on this device');
    return { file: name, ...(await (stream ?? device).predict(source, { forcedChoice })) };
  } catch (err) {
    return { file: name, error: { code: (err as { code?: string }).code || 'decode', message: (err as Error).message } };
  }
}

// ---------------------------------------------------------------- drawing results

function percent(x: number): string {
  return `${Math.round(x * 100)}%`;
}

/** The label with its own probability: `score` is p(positive class), which reads wrongly next to another label. */
function describe(label: string | undefined, probabilities: Record<string, number> | undefined): string {
  const p = label === undefined ? undefined : probabilities?.[label];
  return typeof p === 'number' ? `${label} ${percent(p)}` : String(label);
}

function classOf(label: string | undefined): string {
  if (!model) return 'other';
  if (label === model.positiveClass) return 'positive';
  // A class outside the forced-choice pair is the "neither" answer (neutral), not the opposite one.
  return model.forcedChoice && label !== undefined && !model.forcedChoice.between.includes(label) ? 'neither' : 'negative';
}

/**
 * Boxes are in the image's own pixels; percentages keep them in place at any displayed size. On the
 * camera each box also carries its face's track id (data-track), which its smoothing followed.
 */
function drawBoxes(layer: HTMLElement, row: Row | SteadyRow<Row>, width: number, height: number): void {
  layer.replaceChildren();
  for (const [i, face] of (row.faces || []).entries()) {
    const [x, y, w, h] = face.box;
    const box = document.createElement('div');
    box.className = `box ${classOf(face.label)}${y / height < 0.1 ? ' tag-inside' : ''}`;
    box.style.left = `${(100 * x) / width}%`;
    box.style.top = `${(100 * y) / height}%`;
    box.style.width = `${(100 * w) / width}%`;
    box.style.height = `${(100 * h) / height}%`;
    const tag = document.createElement('span');
    tag.className = 'tag';
    if ('track' in face) box.dataset.track = String(face.track);
    tag.textContent = `${i + 1}: ${describe(face.label, face.probabilities)}`;
    box.append(tag);
    layer.append(box);
  }
}

/** One line per face, or the whole-image verdict: the text a screen reader gets for the picture. */
/** Server messages start with the file's name, which the page already shows next to them. */
function errorText(row: Row): string {
  if (!row.error) return '';
  const prefix = `${row.file}: `;
  return row.error.message.startsWith(prefix) ? row.error.message.slice(prefix.length) : row.error.message;
}

function summarize(row: Row): string {
  if (row.error) return `could not be classified: ${errorText(row)}`;
  if (row.faces?.length) {
    const n = row.faces.length;
    return `${n} face${n > 1 ? 's' : ''}: ${row.faces.map((f, i) => `face ${i + 1} ${describe(f.label, f.probabilities)}`).join(', ')}`;
  }
  if (row.face === 'none-found') return `no face found; whole image ${describe(row.label, row.probabilities)}`;
  return `whole image ${describe(row.label, row.probabilities)}`;
}

function verdictLines(row: Row): { text: string; kind: string }[] {
  if (row.error) return [{ text: errorText(row), kind: 'error' }];
  if (row.faces?.length) return row.faces.map((f, i) => ({ text: `Face ${i + 1}: ${describe(f.label, f.probabilities)}`, kind: classOf(f.label) }));
  const prefix = row.face === 'none-found' ? 'No face found. Whole image: ' : 'Whole image: ';
  return [{ text: prefix + describe(row.label, row.probabilities), kind: classOf(row.label) }];
}

// ---------------------------------------------------------------- photos

interface Card {
  li: HTMLLIElement;
  img: HTMLImageElement;
  layer: HTMLDivElement;
  verdict: HTMLUListElement;
  name: string;
}

const queue: { card: Card; blob: Blob }[] = [];
let inFlight = 0;

function addCard(name: string, blob: Blob): Card {
  const list = $('results');
  const li = document.createElement('li');
  li.className = 'card';
  const figure = document.createElement('figure');
  const stage = document.createElement('div');
  stage.className = 'stage';
  const img = document.createElement('img');
  const url = URL.createObjectURL(blob);
  img.src = url;
  img.alt = `${name}: waiting for the result`;
  // The browser may not display what the server can read (or it is not an image at all).
  img.addEventListener('error', () => stage.classList.add('no-preview'), { once: true });
  const layer = document.createElement('div');
  layer.className = 'boxes';
  layer.setAttribute('aria-hidden', 'true');
  stage.append(img, layer);
  const caption = document.createElement('figcaption');
  const title = document.createElement('span');
  title.className = 'file-name';
  title.textContent = name;
  const verdict = document.createElement('ul');
  verdict.className = 'verdict';
  const pending = document.createElement('li');
  pending.textContent = 'Classifying…';
  verdict.append(pending);
  caption.append(title, verdict);
  figure.append(stage, caption);
  li.append(figure);
  li.dataset.url = url;
  list.prepend(li);
  while (list.children.length > MAX_CARDS) removeCard(list.lastElementChild as HTMLElement);
  document.querySelector<HTMLElement>('.results-head')!.hidden = false;
  return { li, img, layer, verdict, name };
}

function removeCard(li: HTMLElement): void {
  if (li.dataset.url) URL.revokeObjectURL(li.dataset.url);
  li.remove();
}

function showResult(card: Card, row: Row): void {
  const lines = verdictLines(row);
  card.verdict.replaceChildren(...lines.map((line) => {
    const item = document.createElement('li');
    item.className = `verdict-${line.kind}`;
    item.textContent = line.text;
    return item;
  }));
  card.img.alt = `${card.name}: ${summarize(row)}`;
  card.li.dataset.state = row.error ? 'error' : 'done';
  const place = () => drawBoxes(card.layer, row, card.img.naturalWidth, card.img.naturalHeight);
  if (card.img.complete && card.img.naturalWidth) place();
  else card.img.addEventListener('load', place, { once: true });
  $('photo-status').textContent = `${card.name}: ${summarize(row)}`;
}

/** Cards for one batch go on top in the order given; newer batches above older ones. */
function enqueue(items: { name: string; blob: Blob }[]): void {
  const cards = [...items].reverse().map(({ name, blob }) => addCard(name, blob)).reverse();
  items.forEach(({ blob }, i) => queue.push({ card: cards[i]!, blob }));
  pump();
}

function pump(): void {
  // On the device one at a time: the page's thread is the engine's, and answers come in order.
  while (inFlight < (where === 'device' ? 1 : MAX_CONCURRENT_UPLOADS) && queue.length) {
    const job = queue.shift()!;
    inFlight++;
    run(job).finally(() => {
      inFlight--;
      pump();
    });
  }
}

async function run({ card, blob }: { card: Card; blob: Blob }, attempt = 0): Promise<void> {
  try {
    showResult(card, await predict(blob, { name: card.name }));
  } catch (err) {
    if (err instanceof ApiProblem && err.status === 503 && attempt < 3) {
      card.verdict.firstElementChild!.textContent = `Server busy, retrying in ${err.retryAfter || 1} s…`;
      await sleep((err.retryAfter || 1) * 1000);
      return run({ card, blob }, attempt + 1);
    }
    showResult(card, { file: card.name, error: { code: (err as { code?: string }).code || 'network', message: (err as Error).message } });
  }
}

function addFiles(files: FileList | File[] | null | undefined): void {
  if (!files) return;
  const images = [...files];
  if (!images.length) return;
  $('photo-status').textContent = `Classifying ${images.length} photo${images.length > 1 ? 's' : ''}…`;
  enqueue(images.map((f) => ({ name: f.name || 'pasted image', blob: f })));
}

function setUpPhotos(): void {
  const input = $<HTMLInputElement>('file-input');
  input.addEventListener('change', () => {
    addFiles(input.files);
    input.value = ''; // picking the same file again should classify it again
  });
  const zone = $('drop-zone');
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('dragging');
    addFiles(e.dataTransfer?.files);
  });
  // A drop that misses the zone would otherwise navigate away to the image.
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());
  document.addEventListener('paste', (e) => {
    const files = [...(e.clipboardData?.files || [])].filter((f) => f.type.startsWith('image/'));
    if (files.length) addFiles(files);
  });
  for (const button of document.querySelectorAll<HTMLElement>('[data-example]')) {
    button.addEventListener('click', async () => {
      const src = button.dataset.example!;
      try {
        const res = await fetch(src);
        if (!res.ok) throw new Error(`${src}: ${res.status}`);
        enqueue([{ name: src.split('/').pop()!, blob: await res.blob() }]);
      } catch (err) {
        $('photo-status').textContent = `Could not load the example: ${(err as Error).message}`;
      }
    });
  }
  $('clear-results').addEventListener('click', () => {
    for (const li of [...$('results').children]) removeCard(li as HTMLElement);
    document.querySelector<HTMLElement>('.results-head')!.hidden = true;
    $('photo-status').textContent = 'Results cleared.';
    $('file-input').focus();
  });
}

// ---------------------------------------------------------------- webcam

const camera: { stream: MediaStream | null; running: boolean; controller: AbortController | null; lastAnnounced: string } = {
  stream: null,
  running: false,
  controller: null,
  lastAnnounced: '',
};

async function startCamera(): Promise<void> {
  const status = $('camera-status');
  if (!navigator.mediaDevices?.getUserMedia) {
    status.textContent = 'This browser offers no camera here. Browsers allow the camera only on https pages or on localhost.';
    return;
  }
  $<HTMLButtonElement>('camera-start').disabled = true;
  status.textContent = 'Asking for the camera…';
  try {
    camera.stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: 'user' }, audio: false });
  } catch (err) {
    $<HTMLButtonElement>('camera-start').disabled = false;
    status.textContent = (err as Error).name === 'NotAllowedError' ? 'Camera permission was refused.' : `No camera available: ${(err as Error).message}`;
    return;
  }
  const video = $<HTMLVideoElement>('camera-video');
  video.srcObject = camera.stream;
  await video.play();
  camera.running = true;
  camera.lastAnnounced = '';
  $<HTMLButtonElement>('camera-stop').disabled = false;
  $('camera-stop').focus();
  status.textContent = 'Camera on. Looking for faces…';
  cameraLoop();
}

function stopCamera(message = 'The camera is off.'): void {
  camera.running = false;
  camera.controller?.abort();
  for (const track of camera.stream?.getTracks() || []) track.stop();
  camera.stream = null;
  $<HTMLVideoElement>('camera-video').srcObject = null;
  $('camera-boxes').replaceChildren();
  $<HTMLButtonElement>('camera-start').disabled = false;
  $<HTMLButtonElement>('camera-stop').disabled = true;
  $('camera-status').textContent = message;
  $('camera-stats').textContent = '';
}

/** The current frame, at most FRAME_MAX_SIDE on its longer side, as a JPEG. */
async function grabFrame(video: HTMLVideoElement, canvas: HTMLCanvasElement): Promise<{ blob: Blob; width: number; height: number }> {
  const k = Math.min(1, FRAME_MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
  canvas.width = Math.round(video.videoWidth * k);
  canvas.height = Math.round(video.videoHeight * k);
  canvas.getContext('2d')!.drawImage(video, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', FRAME_QUALITY));
  if (!blob) throw new Error('the browser could not encode the camera frame');
  return { blob, width: canvas.width, height: canvas.height };
}

/**
 * One frame in flight at a time: the next is taken when the answer arrives, so the page runs at
 * whatever rate the device or the server sustains and never builds a backlog. On the device the
 * video element itself is read; to the server a JPEG is posted. A 503 waits out Retry-After.
 */
async function cameraLoop(): Promise<void> {
  const video = $<HTMLVideoElement>('camera-video');
  const canvas = document.createElement('canvas');
  // Rebuilt when the switch flips: a steadied label follows the rule its frames were predicted by.
  const smootherNow = () => ({ forced: forcedChoice, of: new LabelSmoother(model!, SMOOTHING_SECONDS, TRACK_GAP_SECONDS, { forcedChoice }) });
  let smoother = smootherNow();
  const recent: number[] = []; // end times of the last frames, for frames per second
  let frames = 0;
  // The camera's frames follow each face from the frame before (the whole frame is searched once a second).
  let stream: { of: BrowserModel; frames: FrameStream } | undefined;
  while (camera.running) {
    if (!video.videoWidth) {
      await sleep(100);
      continue;
    }
    const started = performance.now();
    camera.controller = new AbortController();
    try {
      let row: Row;
      let size: { width: number; height: number };
      if (where === 'device') {
        size = { width: video.videoWidth, height: video.videoHeight };
        if (device && stream?.of !== device) stream = { of: device, frames: device.stream() };
        row = await predictOnDevice(video, 'frame', stream?.frames);
      } else {
        const frame = await grabFrame(video, canvas);
        size = frame;
        row = await predict(frame.blob, { signal: camera.controller.signal });
      }
      if (!camera.running) break;
      if (smoother.forced !== forcedChoice) smoother = smootherNow();
      const steady = row.error ? row : smoother.of.smooth(row, performance.now() / 1000);
      drawBoxes($('camera-boxes'), steady, size.width, size.height);
      const now = performance.now();
      frames++;
      recent.push(now);
      while (recent.length > 1 && now - recent[0] > 2000) recent.shift();
      const fps = recent.length > 1 ? ((recent.length - 1) * 1000) / (now - recent[0]) : 0;
      $('camera-stats').textContent = `${frames} frames, ${fps.toFixed(1)} frames/s, ${Math.round(now - started)} ms this frame, ${where === 'device' ? 'on this device' : 'on the server'}`;
      announce(steady);
    } catch (err) {
      if (!camera.running) break;
      if (err instanceof ApiProblem && err.retryAfter) {
        $('camera-stats').textContent = `Server busy (${err.code}); waiting ${err.retryAfter} s`;
        await sleep(err.retryAfter * 1000);
        continue;
      }
      stopCamera(`Stopped: ${(err as Error).message}`);
      break;
    }
    // A shared server gets breathing room; the device only yields to the page between frames.
    if (where === 'server') await sleep(Math.max(0, MIN_FRAME_INTERVAL_MS - (performance.now() - started)));
    else await sleep(0); // yield, so the page paints the boxes and stays responsive
  }
}

/** Speak only when the verdict changes: reading out every frame would drown a screen reader. */
function announce(row: Row | SteadyRow<Row>): void {
  let text: string;
  if (row.error) text = `Frame could not be classified: ${errorText(row as Row)}`;
  else if (row.faces?.length) text = row.faces.map((f, i) => `Face ${i + 1}: ${f.label}`).join('. ');
  else text = row.face === 'none-found' ? 'No face in view.' : `Whole frame: ${row.label}`;
  if (text !== camera.lastAnnounced) {
    camera.lastAnnounced = text;
    $('camera-status').textContent = text;
  }
}

function setUpCamera(): void {
  $('camera-start').addEventListener('click', startCamera);
  $('camera-stop').addEventListener('click', () => {
    stopCamera();
    $('camera-start').focus();
  });
  document.addEventListener('visibilitychange', () => {
    if (document.hidden && camera.running) stopCamera('The camera stopped because the page was hidden.');
  });
}

// ---------------------------------------------------------------- modes

function setMode(mode: 'photos' | 'camera'): void {
  const photos = mode === 'photos';
  $('mode-photos').setAttribute('aria-pressed', String(photos));
  $('mode-camera').setAttribute('aria-pressed', String(!photos));
  $('photos-panel').hidden = !photos;
  $('camera-panel').hidden = photos;
  if (photos && camera.running) stopCamera();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

$('mode-photos').addEventListener('click', () => setMode('photos'));
$('where-device').addEventListener('click', () => setWhere('device'));
$('where-server').addEventListener('click', () => setWhere('server'));
$('mode-camera').addEventListener('click', () => setMode('camera'));
setUpPhotos();
setUpCamera();
loadModelInfo();
