/**
 * The process-wide events whose listeners TensorFlow.js' WASM backend adds when it starts: its
 * emscripten glue rethrows any uncaught exception from its own listener and exits with code 7,
 * and turns every unhandled rejection into one. A library must not change how the app's own
 * errors end the process, so those listeners are taken off again.
 */
const GUARDED_EVENTS = ['uncaughtException', 'unhandledRejection'] as const;

/**
 * Runs `start` and then removes the listeners it added to `process` for uncaught errors, leaving
 * the ones that were there before. The same holds in a worker thread, whose `process` events are
 * its own. A listener the app adds while `start` runs would be taken off too; the engine starts
 * once per thread, inside the first loadModel()/train()/evaluate().
 */
export async function keepProcessListeners<T>(start: () => Promise<T>): Promise<T> {
  // Node's typings overload listeners() per event name; both guarded events take a function.
  const listeners = (event: string) => process.listeners(event as 'exit') as (() => void)[];
  const before = new Map(GUARDED_EVENTS.map((event) => [event, new Set(listeners(event))]));
  try {
    return await start();
  } finally {
    for (const event of GUARDED_EVENTS) {
      for (const listener of listeners(event)) {
        if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
      }
    }
  }
}
