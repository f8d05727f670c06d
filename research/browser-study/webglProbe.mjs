// Is WebGL there at all in headless Chromium without the SwiftShader flags? node research/browser-study/webglProbe.mjs
import { launch, startServer } from './harness.mjs';
const { server, url } = await startServer();
for (const [name, args] of [['no flags', []], ['--disable-gpu', ['--disable-gpu']], ['swiftshader', ['--use-angle=swiftshader', '--enable-unsafe-swiftshader']]]) {
  const browser = await launch(args);
  const page = await browser.newPage();
  await page.goto(`${url}/decode.html`);
  const r = await page.evaluate(() => {
    const c = document.createElement('canvas');
    const gl = c.getContext('webgl2') || c.getContext('webgl');
    if (!gl) return 'no WebGL context';
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    return `${gl instanceof WebGL2RenderingContext ? 'webgl2' : 'webgl1'}: ${ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER)}`;
  });
  const gpu = await page.evaluate(async () => ('gpu' in navigator ? String(!!(await navigator.gpu.requestAdapter().catch(() => null))) : 'no navigator.gpu'));
  console.log(name.padEnd(14), '|', r, '| webgpu adapter:', gpu);
  await browser.close();
}
server.close();
