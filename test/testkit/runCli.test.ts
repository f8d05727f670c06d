import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCli, stopStartedClis, waitFor } from '../../testkit/runCli.js';

test('stopStartedClis ends every background CLI still running (a server here), and lets an exited one be', async () => {
  const done = startCli(['--version']);
  assert.equal(await done.exited, 0);
  const server = startCli(['serve', '--host', '127.0.0.1', '--port', '0', '--concurrency', '1']);
  await waitFor('the server to listen', () => server.log.some((l) => /listening|http:\/\/127\.0\.0\.1:\d+/i.test(l)), 60_000);
  assert.equal(server.child.exitCode, null, 'still running before the stop');
  await stopStartedClis();
  assert.equal(await server.exited, null, 'ended by a signal, not on its own');
  assert.equal(server.child.signalCode, 'SIGKILL');
});
