import type { Server } from 'node:http';

/**
 * Lets `close()` finish promptly without cutting off answers. Node's server.close() waits for
 * every connection to end, and the idle-connection sweep that fastify runs misses sockets that
 * were opened but never carried a request (browsers and undici open spares), so one such socket
 * held a close for seconds. Once no request is in flight, or at the deadline, every remaining
 * connection is cut.
 */
export function cutConnectionsWhenDrained(server: Server, deadlineMs: number): { start: () => void } {
  let inFlight = 0;
  server.on('request', (_request, response) => {
    inFlight++;
    response.once('close', () => inFlight--);
  });
  return {
    start() {
      const deadline = Date.now() + deadlineMs;
      const timer = setInterval(() => {
        if (inFlight > 0 && Date.now() < deadline) return;
        clearInterval(timer);
        server.closeAllConnections();
      }, 25);
      timer.unref();
    },
  };
}
