import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const madeDirs: string[] = [];

/**
 * A fresh folder under the OS temp dir, removed when the test process exits (each test file runs
 * in its own process), so `npm test` leaves nothing behind even when a test fails midway.
 * To keep screenshots, the browser tests take HAPPYSAD_SCREENSHOTS=dir instead.
 */
export async function tempDir(prefix = 'happysad-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  if (madeDirs.length === 0) process.once('exit', removeMadeDirs);
  madeDirs.push(dir);
  return dir;
}

function removeMadeDirs(): void {
  for (const dir of madeDirs) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}
