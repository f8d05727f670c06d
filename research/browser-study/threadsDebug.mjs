// Which wasm binary and how many XNNPACK threads the threaded build really gets.
import { launch, startServer } from './harness.mjs';
const { server, url } = await startServer();
for (const threads of [2]) {
  const browser = await launch();
  const page = await browser.newPage();
  page.on('console', (m) => console.log('  console:', m.text()));
  await page.goto(`${url}/browser/bench.html`);
  await page.waitForFunction(() => globalThis.study);
  const r = await page.evaluate(async (t) => {
    const info = await globalThis.study.init({ backend: 'wasm', threads: t || 8, simd: true });
    return info;
  }, threads);
  console.log('threads asked', threads || 8, JSON.stringify(r));
  await browser.close();
}
server.close();
