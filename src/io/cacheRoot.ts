import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/** $HAPPYSAD_CACHE, else the XDG cache folder ($XDG_CACHE_HOME, else ~/.cache) + /happysad. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HAPPYSAD_CACHE) return env.HAPPYSAD_CACHE;
  // The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
  const xdg = env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(xdg, 'happysad');
}
