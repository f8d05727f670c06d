import { OptionError } from '../base/errors.js';

// Checks of --redis and --queue that need neither Redis nor BullMQ, so that a command can refuse a
// typo at once and load the queue's libraries (~0.5 s) only when it really uses the queue.

/** A queue name as BullMQ takes it (it keys Redis with ':'), checked before any connection. */
export function validateQueueName(name: string): string {
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(name)) throw new OptionError(`--queue ${JSON.stringify(name)}: use 1 to 100 letters, digits, '.', '_' or '-'`);
  return name;
}

/** The connection options BullMQ passes to ioredis, from a redis:// URL. */
export function redisConnection(url: string): { host: string; port: number; username?: string; password?: string; db?: number; family?: number; maxRetriesPerRequest: null } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new OptionError(`--redis ${url}: not a URL; write redis://HOST:PORT (or redis://:PASSWORD@HOST:PORT/DB)`);
  }
  if (u.protocol !== 'redis:') throw new OptionError(`--redis ${url}: expected a redis:// URL`);
  const dbText = u.pathname.replace(/^\//, '');
  if (dbText && !/^\d{1,5}$/.test(dbText)) throw new OptionError(`--redis ${url}: "${dbText}" is not a database number; write redis://HOST:PORT/0 (or leave the path out for database 0)`);
  // An IPv6 address comes bracketed in a URL and must reach ioredis without them.
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  return {
    host,
    port: Number(u.port || 6379),
    ...(host.includes(':') ? { family: 6 } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(dbText ? { db: Number(dbText) } : {}),
    // Commands wait through a lost connection (ioredis reconnects) instead of failing after 20 tries.
    maxRetriesPerRequest: null,
  };
}
