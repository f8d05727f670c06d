import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../../testkit/chromium.js';
import { tempDir } from '../../testkit/tempDir.js';
import { buildPageAndLibrary, FACES_DIR, makeModel, startServer, webcamFrame } from '../../testkit/serveFixtures.js';
import { rgbToY4m } from '../../testkit/y4m.js';
import { defaultModelDir } from '../../src/model/defaultModel.js';

/** Screenshots go here (HAPPYSAD_SCREENSHOTS=dir to keep them somewhere known). */
let shots: string;
let app: FastifyInstance;
let url: string;
let browser: Browser;
let pageFiles: { webRoot: string; libRoot: string };

before(async () => {
  shots = process.env.HAPPYSAD_SCREENSHOTS ? resolve(process.env.HAPPYSAD_SCREENSHOTS) : await tempDir('happysad-shots-');
  await mkdir(shots, { recursive: true });
  // The fake camera plays an example face on a 640x480 backdrop, so webcam mode has a real face to find.
  const frame = await webcamFrame('raw');
  const y4m = join(await tempDir(), 'face.y4m');
  await writeFile(y4m, rgbToY4m([frame.data], frame.width, frame.height));
  // One inference thread: the page sends one request at a time, and a second thread would only add its start-up.
  pageFiles = await buildPageAndLibrary();
  ({ app, url } = await startServer({ model: await makeModel({ faces: true }), concurrency: 1, ...pageFiles }));
  browser = await launchChromium({ camera: y4m });
});

after(async () => {
  await browser?.close();
  await app?.close();
});

/** A phone-sized page that fails the test on any script error or CSP violation. */
async function openPage(viewport = { width: 390, height: 844 }, at = url): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, hasTouch: viewport.width < 600 });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
  await page.goto(`${at}/`);
  await page.waitForFunction(() => !/Loading/.test(document.getElementById('model-info')!.textContent!));
  return { page, problems };
}

test('upload a photo: its face is boxed and labelled as the API labels it, on a phone-sized screen', async (t) => {
  const { page, problems } = await openPage();
  assert.match(await page.textContent('#model-info') ?? '', /test-face.*each face/);
  // This model finds faces with ssd, which the browser build does not ship: the page says so and uses the server.
  assert.match(await page.textContent('#where-status') ?? '', /^On the server: .* This browser cannot run the model itself \(.*'ssd'.*\)\.$/);
  assert.equal(await page.isDisabled('#where-device'), true);
  assert.equal(await page.isVisible('#forced-choice-row'), false, 'a happy/sad model has no forced-choice switch');
  const photo = join(FACES_DIR, 'happy', 'Azra_Akin_0003.jpg');
  await page.setInputFiles('#file-input', photo);
  const card = page.locator('#results .card').first();
  await page.waitForSelector('#results .card[data-state="done"] .box .tag', { timeout: 20_000 });

  // The page shows what the API says for the same bytes.
  const api = await (await fetch(`${url}/v1/predict`, { method: 'POST', body: await readFile(photo) })).json();
  const face = api.results[0].faces[0];
  const expected = `${face.label} ${Math.round(face.probabilities[face.label] * 100)}%`;
  assert.equal(await card.locator('.tag').first().textContent(), `1: ${expected}`);
  assert.equal(await card.locator('.verdict li').first().textContent(), `Face 1: ${expected}`);
  assert.match(await page.textContent('#photo-status') ?? '', new RegExp(`Azra_Akin_0003\\.jpg: 1 face: face 1 ${expected}`));
  assert.match(await card.locator('img').getAttribute('alt') ?? '', /Azra_Akin_0003\.jpg: 1 face/);

  // The box sits where the API put it, scaled to the displayed image.
  const geometry = await card.evaluate((el) => {
    const img = el.querySelector('img')!.getBoundingClientRect();
    const box = el.querySelector('.box')!.getBoundingClientRect();
    return { img: [img.x, img.y, img.width], box: [box.x, box.y, box.width] };
  });
  const k = geometry.img[2] / 350;
  assert.ok(Math.abs(geometry.box[0] - (geometry.img[0] + face.box[0] * k)) < 2, `box x ${JSON.stringify(geometry)} vs ${face.box}`);
  assert.ok(Math.abs(geometry.box[2] - face.box[2] * k) < 2, 'box width');
  assert.ok(geometry.img[2] <= 390, 'the photo fits a phone-width screen');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, 'no horizontal scrolling on a phone');

  // A text file gets a readable error card, not a crash.
  await page.setInputFiles('#file-input', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a photo') });
  await page.waitForSelector('#results .card[data-state="error"]');
  assert.match(await page.locator('#results .card[data-state="error"] .verdict').textContent() ?? '', /not a known image format/);

  // Several at once: their cards go on top, in the order picked.
  await page.setInputFiles('#file-input', [join(FACES_DIR, 'happy', 'Tom_Watson_0003.jpg'), join(FACES_DIR, 'sad', 'Avinash_13.jpg')]);
  await page.waitForFunction(() => document.querySelectorAll('#results .card[data-state]').length === 4, undefined, { timeout: 20_000 });
  assert.deepEqual(await page.locator('#results .file-name').allTextContents(), ['Tom_Watson_0003.jpg', 'Avinash_13.jpg', 'notes.txt', 'Azra_Akin_0003.jpg']);

  await page.screenshot({ path: join(shots, 'upload-phone.png'), fullPage: true });
  t.diagnostic(`screenshot: ${join(shots, 'upload-phone.png')}`);
  // The browser logs the refused upload's 415 itself; anything else is a fault.
  assert.deepEqual(problems.filter((p) => !/status of 415/.test(p)), []);
  await page.context().close();
});

test('keyboard: controls are real buttons and inputs with names, reachable by Tab, with a visible focus style', async (t) => {
  const { page, problems } = await openPage({ width: 1280, height: 800 });
  // Nothing clickable that a keyboard or a screen reader cannot use as a control.
  assert.equal(await page.locator('div[onclick], span[onclick], [role="button"]:not(button)').count(), 0);
  // The controls a user needs are buttons with their names (the hidden camera panel's too); none is unnamed.
  for (const name of ['Photos', 'Webcam', 'Happy example', 'Sad example', 'Clear', 'Start camera', 'Stop camera']) {
    assert.equal(await page.getByRole('button', { name, exact: true, includeHidden: true }).count(), 1, `a "${name}" button`);
  }
  const unnamed = await page.evaluate(() => [...document.querySelectorAll('button')].filter((b) => !(b.textContent!.trim() || b.getAttribute('aria-label'))).length);
  assert.equal(unnamed, 0, 'every button has a name');
  assert.equal(await page.getByLabel(/choose photos/i).count(), 1, 'the file input has a label');
  for (const status of ['#photo-status', '#camera-status']) assert.ok(await page.getAttribute(status, 'aria-live'), `${status} is announced`);
  // Tabbing from the top: the skip link first, then every control of the photos panel is reached.
  const focused: string[] = [];
  for (let i = 0; i < 10; i++) {
    await page.keyboard.press('Tab');
    focused.push(await page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent?.trim() || ''));
  }
  assert.equal(focused[0], 'Skip to content');
  for (const control of ['mode-photos', 'mode-camera', 'file-input', 'Happy example', 'Sad example']) {
    assert.ok(focused.includes(control), `${control} is reached by Tab: ${focused}`);
  }
  // Focus on the (visually hidden) file input shows on its label.
  await page.focus('#file-input');
  const outline = await page.evaluate(() => getComputedStyle(document.querySelector('label[for="file-input"]')!).outlineStyle);
  assert.notEqual(outline, 'none', 'a visible focus outline');
  // The example button works from the keyboard.
  await page.focus('button[data-example="examples/sad.jpg"]');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#results .card[data-state="done"]', { timeout: 20_000 });
  assert.match(await page.textContent('#photo-status') ?? '', /^sad\.jpg: /);
  await page.focus('#file-input');
  await page.screenshot({ path: join(shots, 'keyboard-desktop.png') });
  t.diagnostic(`screenshot: ${join(shots, 'keyboard-desktop.png')}`);
  assert.deepEqual(problems, []);
  await page.context().close();
});

test('webcam mode: the fake camera\'s face gets a live box and label', async (t) => {
  const { page, problems } = await openPage();
  await page.click('#mode-camera');
  assert.equal(await page.isVisible('#photos-panel'), false);
  await page.click('#camera-start');
  await page.waitForSelector('#camera-boxes .box .tag', { timeout: 20_000 });
  // A couple more frames, so the loop is known to keep going.
  await page.waitForFunction(() => /^([3-9]|\d\d+) frames/.test(document.getElementById('camera-stats')!.textContent!), undefined, { timeout: 20_000 });
  const status = await page.textContent('#camera-status');
  assert.match(status ?? '', /^Face 1: (happy|sad)$/);
  const tag = await page.textContent('#camera-boxes .tag');
  assert.match(tag ?? '', /^1: (happy|sad) \d+%$/);
  const box = await page.evaluate(() => {
    const v = document.getElementById('camera-video')!.getBoundingClientRect();
    const b = document.querySelector('#camera-boxes .box')!.getBoundingClientRect();
    return { x: (b.x - v.x) / v.width, w: b.width / v.width };
  });
  // The face was pasted at x = 145..495 of 640; the detector's box lands around there.
  assert.ok(box.x > 0.15 && box.x < 0.45 && box.w > 0.25 && box.w < 0.7, `camera box ${JSON.stringify(box)}`);
  await page.screenshot({ path: join(shots, 'webcam-phone.png'), fullPage: true });
  t.diagnostic(`screenshot: ${join(shots, 'webcam-phone.png')}`);
  await page.click('#camera-stop');
  assert.equal(await page.textContent('#camera-status'), 'The camera is off.');
  assert.equal(await page.locator('#camera-boxes .box').count(), 0);
  assert.deepEqual(problems, []);
  await page.context().close();
});

test('forced choice: a happy/neutral/sad model\'s page offers "happy or sad only", and checked, the server and the device both answer as --forced-choice does', async () => {
  const served = await startServer({ model: defaultModelDir(), concurrency: 1, ...pageFiles });
  try {
    const { page, problems } = await openPage({ width: 1280, height: 800 }, served.url);
    assert.equal(await page.isVisible('#forced-choice-row'), true);
    assert.equal(await page.textContent('#forced-choice-label'), 'happy or sad only');
    assert.equal(await page.textContent('#forced-choice-note'), '(forced choice: never neutral)');
    // A face the model calls neutral: forced to choose, it says happy or sad (what the API says, either way).
    const photo = join(FACES_DIR, 'happy', 'Kristanna_Loken_0001.jpg');
    const labelOf = async (query: string) => (await (await fetch(`${served.url}/v1/predict${query}`, { method: 'POST', body: await readFile(photo) })).json()).results[0].faces[0].label as string;
    const [own, forced] = [await labelOf(''), await labelOf('?forced_choice=true')];
    assert.ok(['happy', 'sad'].includes(forced), forced);
    const upload = async () => {
      const n = await page.locator('#results .card[data-state="done"]').count();
      await page.setInputFiles('#file-input', photo);
      await page.waitForFunction((k) => document.querySelectorAll('#results .card[data-state="done"]').length > k, n, { timeout: 30_000 });
      return (await page.locator('#results .card .tag').first().textContent())!.replace(/^1: (\w+) \d+%$/, '$1');
    };
    await page.click('#where-server');
    assert.equal(await upload(), own);
    await page.check('#forced-choice');
    assert.equal(await upload(), forced, 'on the server, with ?forced_choice=true');
    await page.click('#where-device');
    assert.match(await page.textContent('#where-status') ?? '', /^On this device/);
    assert.equal(await upload(), forced, 'on the device, with forcedChoice');
    await page.uncheck('#forced-choice');
    assert.equal(await upload(), own, 'unchecked, the model\'s own answer again');
    assert.deepEqual(problems, []);
    await page.context().close();
  } finally {
    await served.app.close();
  }
});
