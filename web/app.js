// The page runs the model on the device when it can (happysad/browser at lib/happysad.js, the same
// bundle files and the same preprocessing code as the server), and otherwise posts photos and camera
// frames to POST /v1/predict. A switch under the header says which, and lets the user choose. On the
// device nothing is sent anywhere: no photo, no frame. Served as a static folder (npm run build:web)
// there is no server, and the page runs on the device only.

const API = 'v1/predict'; // relative, so the page also works behind a proxy under a path prefix
const MAX_CONCURRENT_UPLOADS = 2; // the server's concurrency on two cores: more would only wait in its queue
const MAX_CARDS = 24;
const FRAME_MAX_SIDE = 640; // frames are downscaled before posting: the detector works at 512
const FRAME_QUALITY = 0.85;
const MIN_FRAME_INTERVAL_MS = 150; // leave headroom for other clients even when the server is fast
const SMOOTHING_FRAMES = 6; // ~0.25 s at camera speed: long enough to stop flicker, short enough to follow a change

const $ = (id) => document.getElementById(id);
let model = null; // the bundle's happysad.json: classes, positiveClass, threshold, preprocessing
let server = null; // GET v1/model when a happysad server is behind this page, else null (a static host)
let device = null; // the on-device model (happysad/browser), when this browser can run it
let deviceProblem = ''; // why it cannot, when it cannot
let where = null; // 'device' | 'server'

// ---------------------------------------------------------------- model info and where it runs

async function loadModelInfo() {
  const info = $('model-info');
  // A static build says so in its page (npm run build:web), so it never asks for a server it lacks.
  const onStaticHost = document.querySelector('meta[name="happysad-host"]')?.content === 'static';
  server = onStaticHost ? null : await fetch('v1/model').then(async (res) => (res.ok ? jsonOf(res) : null), () => null);
  try {
    if (typeof WebAssembly !== 'object') throw new Error('this browser has no WebAssembly');
    const lib = await import('./lib/happysad.js');
    device = await lib.loadModel(server ? 'v1/model/files/' : 'model/');
  } catch (err) {
    deviceProblem = err.message;
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
  $('where-device').disabled = !device;
  $('where-server').disabled = !server;
  if (!server) for (const el of document.querySelectorAll('.server-only')) el.hidden = true;
  setWhere(device ? 'device' : 'server');
}

function setWhere(next) {
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
  constructor(code, message, status, retryAfter) {
    super(message);
    this.code = code;
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

/** The JSON body of a response, or null when it is not JSON (a proxy's error page, say). */
async function jsonOf(res) {
  try {
    return await res.json();
  } catch {
    return null;
  }
}

function problemOf(res, body) {
  const error = (body?.error) || { code: `http-${res.status}`, message: `the server answered ${res.status} ${res.statusText}` };
  const retry = Number(res.headers.get('retry-after'));
  return new ApiProblem(error.code, error.message, res.status, Number.isFinite(retry) && retry > 0 ? retry : undefined);
}

/**
 * Posts one image and returns its result row. A named file goes as multipart, so the server's
 * messages name it; a camera frame goes as the raw body. An image the server refused still comes
 * back as a row with `error` (the API lists it in `results`); only a refusal of the request
 * itself (busy, timeout, too large) throws.
 */
async function predict(blob, { name, signal } = {}) {
  if (where === 'device') return predictOnDevice(blob, name || 'frame');
  let body = blob;
  const headers = {};
  if (name) {
    body = new FormData();
    body.append('image', blob, name);
  } else {
    headers['content-type'] = blob.type || 'application/octet-stream';
  }
  const res = await fetch(API, { method: 'POST', body, headers, signal });
  const json = await jsonOf(res);
  if (json && Array.isArray(json.results) && json.results.length) return json.results[0];
  throw problemOf(res, json);
}

/** The same row as the API's, computed here; a photo the browser cannot read is a row with `error`, as the API gives it. */
async function predictOnDevice(source, name) {
  try {
    return { file: name, ...(await device.predict(source)) };
  } catch (err) {
    return { file: name, error: { code: err.code || 'decode', message: err.message } };
  }
}

// ---------------------------------------------------------------- drawing results

function percent(x) {
  return `${Math.round(x * 100)}%`;
}

/** The label with its own probability: `score` is p(positive class), which reads wrongly next to another label. */
function describe(label, probabilities) {
  const p = probabilities?.[label];
  return typeof p === 'number' ? `${label} ${percent(p)}` : label;
}

function classOf(label) {
  if (!model) return 'other';
  return label === model.positiveClass ? 'positive' : 'negative';
}

/** Boxes are in the image's own pixels; percentages keep them in place at any displayed size. */
function drawBoxes(layer, row, width, height) {
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
    tag.textContent = `${i + 1}: ${describe(face.label, face.probabilities)}`;
    box.append(tag);
    layer.append(box);
  }
}

/** One line per face, or the whole-image verdict: the text a screen reader gets for the picture. */
/** Server messages start with the file's name, which the page already shows next to them. */
function errorText(row) {
  const prefix = `${row.file}: `;
  return row.error.message.startsWith(prefix) ? row.error.message.slice(prefix.length) : row.error.message;
}

function summarize(row) {
  if (row.error) return `could not be classified: ${errorText(row)}`;
  if (row.faces?.length) {
    const n = row.faces.length;
    return `${n} face${n > 1 ? 's' : ''}: ${row.faces.map((f, i) => `face ${i + 1} ${describe(f.label, f.probabilities)}`).join(', ')}`;
  }
  if (row.face === 'none-found') return `no face found; whole image ${describe(row.label, row.probabilities)}`;
  return `whole image ${describe(row.label, row.probabilities)}`;
}

function verdictLines(row) {
  if (row.error) return [{ text: errorText(row), kind: 'error' }];
  if (row.faces?.length) return row.faces.map((f, i) => ({ text: `Face ${i + 1}: ${describe(f.label, f.probabilities)}`, kind: classOf(f.label) }));
  const prefix = row.face === 'none-found' ? 'No face found. Whole image: ' : 'Whole image: ';
  return [{ text: prefix + describe(row.label, row.probabilities), kind: classOf(row.label) }];
}

// ---------------------------------------------------------------- photos

const queue = [];
let inFlight = 0;

function addCard(name, blob) {
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
  while (list.children.length > MAX_CARDS) removeCard(list.lastElementChild);
  document.querySelector('.results-head').hidden = false;
  return { li, img, layer, verdict, name };
}

function removeCard(li) {
  if (li.dataset.url) URL.revokeObjectURL(li.dataset.url);
  li.remove();
}

function showResult(card, row) {
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
function enqueue(items) {
  const cards = [...items].reverse().map(({ name, blob }) => addCard(name, blob)).reverse();
  items.forEach(({ blob }, i) => queue.push({ card: cards[i], blob }));
  pump();
}

function pump() {
  // On the device one at a time: the page's thread is the engine's, and answers come in order.
  while (inFlight < (where === 'device' ? 1 : MAX_CONCURRENT_UPLOADS) && queue.length) {
    const job = queue.shift();
    inFlight++;
    run(job).finally(() => {
      inFlight--;
      pump();
    });
  }
}

async function run({ card, blob }, attempt = 0) {
  try {
    showResult(card, await predict(blob, { name: card.name }));
  } catch (err) {
    if (err instanceof ApiProblem && err.status === 503 && attempt < 3) {
      card.verdict.firstElementChild.textContent = `Server busy, retrying in ${err.retryAfter || 1} s…`;
      await sleep((err.retryAfter || 1) * 1000);
      return run({ card, blob }, attempt + 1);
    }
    showResult(card, { file: card.name, error: { code: err.code || 'network', message: err.message } });
  }
}

function addFiles(files) {
  const images = [...files];
  if (!images.length) return;
  $('photo-status').textContent = `Classifying ${images.length} photo${images.length > 1 ? 's' : ''}…`;
  enqueue(images.map((f) => ({ name: f.name || 'pasted image', blob: f })));
}

function setUpPhotos() {
  const input = $('file-input');
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
    addFiles(e.dataTransfer.files);
  });
  // A drop that misses the zone would otherwise navigate away to the image.
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());
  document.addEventListener('paste', (e) => {
    const files = [...(e.clipboardData?.files || [])].filter((f) => f.type.startsWith('image/'));
    if (files.length) addFiles(files);
  });
  for (const button of document.querySelectorAll('[data-example]')) {
    button.addEventListener('click', async () => {
      const src = button.dataset.example;
      try {
        const res = await fetch(src);
        if (!res.ok) throw new Error(`${src}: ${res.status}`);
        enqueue([{ name: src.split('/').pop(), blob: await res.blob() }]);
      } catch (err) {
        $('photo-status').textContent = `Could not load the example: ${err.message}`;
      }
    });
  }
  $('clear-results').addEventListener('click', () => {
    for (const li of [...$('results').children]) removeCard(li);
    document.querySelector('.results-head').hidden = true;
    $('photo-status').textContent = 'Results cleared.';
    $('file-input').focus();
  });
}

// ---------------------------------------------------------------- webcam

const camera = { stream: null, running: false, controller: null, lastAnnounced: '' };

async function startCamera() {
  const status = $('camera-status');
  if (!navigator.mediaDevices?.getUserMedia) {
    status.textContent = 'This browser offers no camera here. Browsers allow the camera only on https pages or on localhost.';
    return;
  }
  $('camera-start').disabled = true;
  status.textContent = 'Asking for the camera…';
  try {
    camera.stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: 'user' }, audio: false });
  } catch (err) {
    $('camera-start').disabled = false;
    status.textContent = err.name === 'NotAllowedError' ? 'Camera permission was refused.' : `No camera available: ${err.message}`;
    return;
  }
  const video = $('camera-video');
  video.srcObject = camera.stream;
  await video.play();
  camera.running = true;
  camera.lastAnnounced = '';
  $('camera-stop').disabled = false;
  $('camera-stop').focus();
  status.textContent = 'Camera on. Looking for faces…';
  cameraLoop();
}

function stopCamera(message = 'The camera is off.') {
  camera.running = false;
  camera.controller?.abort();
  for (const track of camera.stream?.getTracks() || []) track.stop();
  camera.stream = null;
  $('camera-video').srcObject = null;
  $('camera-boxes').replaceChildren();
  $('camera-start').disabled = false;
  $('camera-stop').disabled = true;
  $('camera-status').textContent = message;
  $('camera-stats').textContent = '';
}

/** The current frame, at most FRAME_MAX_SIDE on its longer side, as a JPEG. */
async function grabFrame(video, canvas) {
  const k = Math.min(1, FRAME_MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
  canvas.width = Math.round(video.videoWidth * k);
  canvas.height = Math.round(video.videoHeight * k);
  canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', FRAME_QUALITY));
  return { blob, width: canvas.width, height: canvas.height };
}

/**
 * Steadies labels over the last SMOOTHING_FRAMES frames so they do not flicker: each face is
 * followed from frame to frame by its box (the best-overlapping box of the previous frame), and
 * shows the mean of its recent probabilities, decided as the model decides (its threshold).
 */
class LabelSmoother {
  constructor(frames) {
    this.frames = frames;
    this.tracks = [];
  }

  smooth(row) {
    if (!row.faces?.length) {
      this.tracks = [];
      return row;
    }
    const tracks = row.faces.map((face) => {
      const previous = this.tracks.reduce((best, t) => (iou(t.box, face.box) > (best ? iou(best.box, face.box) : 0.3) ? t : best), null);
      const history = [...(previous?.history || []), face.probabilities].slice(-this.frames);
      return { box: face.box, history };
    });
    this.tracks = tracks;
    return {
      ...row,
      faces: row.faces.map((face, i) => {
        const probabilities = {};
        for (const c of model.classes) probabilities[c] = tracks[i].history.reduce((sum, p) => sum + p[c], 0) / tracks[i].history.length;
        return { ...face, label: decide(probabilities), probabilities };
      }),
    };
  }
}

function iou([ax, ay, aw, ah], [bx, by, bw, bh]) {
  const w = Math.min(ax + aw, bx + bw) - Math.max(ax, bx);
  const h = Math.min(ay + ah, by + bh) - Math.max(ay, by);
  const i = w > 0 && h > 0 ? w * h : 0;
  return i / (aw * ah + bw * bh - i || 1);
}

/** The model's decision rule on averaged probabilities: its threshold for one sigmoid unit, else the most probable class. */
function decide(probabilities) {
  if (model.output === 'sigmoid') {
    const other = model.classes.find((c) => c !== model.positiveClass);
    return probabilities[model.positiveClass] >= model.threshold ? model.positiveClass : other;
  }
  return model.classes.reduce((best, c) => (probabilities[c] > probabilities[best] ? c : best));
}

/**
 * One frame in flight at a time: the next is taken when the answer arrives, so the page runs at
 * whatever rate the device or the server sustains and never builds a backlog. On the device the
 * video element itself is read; to the server a JPEG is posted. A 503 waits out Retry-After.
 */
async function cameraLoop() {
  const video = $('camera-video');
  const canvas = document.createElement('canvas');
  const smoother = new LabelSmoother(SMOOTHING_FRAMES);
  const recent = []; // end times of the last frames, for frames per second
  let frames = 0;
  while (camera.running) {
    if (!video.videoWidth) {
      await sleep(100);
      continue;
    }
    const started = performance.now();
    camera.controller = new AbortController();
    try {
      let row;
      let size;
      if (where === 'device') {
        size = { width: video.videoWidth, height: video.videoHeight };
        row = await predictOnDevice(video, 'frame');
      } else {
        const frame = await grabFrame(video, canvas);
        size = frame;
        row = await predict(frame.blob, { signal: camera.controller.signal });
      }
      if (!camera.running) break;
      const steady = row.error ? row : smoother.smooth(row);
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
      stopCamera(`Stopped: ${err.message}`);
      break;
    }
    // A shared server gets breathing room; the device only yields to the page between frames.
    if (where === 'server') await sleep(Math.max(0, MIN_FRAME_INTERVAL_MS - (performance.now() - started)));
    else await sleep(0); // yield, so the page paints the boxes and stays responsive
  }
}

/** Speak only when the verdict changes: reading out every frame would drown a screen reader. */
function announce(row) {
  let text;
  if (row.error) text = `Frame could not be classified: ${errorText(row)}`;
  else if (row.faces?.length) text = row.faces.map((f, i) => `Face ${i + 1}: ${f.label}`).join('. ');
  else text = row.face === 'none-found' ? 'No face in view.' : `Whole frame: ${row.label}`;
  if (text !== camera.lastAnnounced) {
    camera.lastAnnounced = text;
    $('camera-status').textContent = text;
  }
}

function setUpCamera() {
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

function setMode(mode) {
  const photos = mode === 'photos';
  $('mode-photos').setAttribute('aria-pressed', String(photos));
  $('mode-camera').setAttribute('aria-pressed', String(!photos));
  $('photos-panel').hidden = !photos;
  $('camera-panel').hidden = photos;
  if (photos && camera.running) stopCamera();
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

$('mode-photos').addEventListener('click', () => setMode('photos'));
$('where-device').addEventListener('click', () => setWhere('device'));
$('where-server').addEventListener('click', () => setWhere('server'));
$('mode-camera').addEventListener('click', () => setMode('camera'));
setUpPhotos();
setUpCamera();
loadModelInfo();
