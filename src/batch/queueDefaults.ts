/**
 * The job queue's defaults, apart from predictQueue.ts so the CLI's command table can show them
 * without loading BullMQ and ioredis (the table is loaded on every invocation).
 */

/** The queue producers and workers meet on when neither names one. */
export const DEFAULT_QUEUE = 'happysad';

/** Seconds before a silent worker's batch goes to another worker; also how often locks are checked. */
export const DEFAULT_STALL_SECONDS = 30;
