/**
 * A command whose promise never settles, because nothing is left to wait on (a thread unreferenced
 * while a job was still out, a stream never ended), lets Node exit as if it had succeeded: exit 0,
 * no rows, no message. A script or cluster job would take that empty output for a finished run.
 * This says so and makes it exit 1. 'beforeExit' comes only when the event loop has emptied by
 * itself, never after process.exit() (serve's shutdown, a closed pipe), so those are left alone.
 * With `json`, the failure is also one JSON object on stdout.
 */
export function failIfUnfinished(run: Promise<unknown>, name: string, json = false): void {
  let settled = false;
  const done = () => {
    settled = true;
  };
  run.then(done, done);
  process.once('beforeExit', () => {
    if (settled) return;
    const message = `happysad ${name}: internal error: the run stopped before it finished, with nothing left to wait on; its output is incomplete (please report it)`;
    // With --json a script reads stdout: the failure goes there too, as main's other failures do.
    if (json) process.stdout.write(`${JSON.stringify({ error: { code: 'internal', message } })}\n`);
    process.stderr.write(`${message}\n`);
    process.exitCode = 1;
  });
}
