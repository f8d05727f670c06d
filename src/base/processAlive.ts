/**
 * Whether process `pid` exists on this machine: how a lock or a temporary folder named by its
 * owner's pid tells a running owner from one that was killed before it could clean up.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, as another user's process.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
