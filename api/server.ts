/** `serve`: the API, the dashboard and the scheduled ingest, on PORT (default 3000). */
import { serve as honoServe } from "@hono/node-server";
import { UploadQueue } from "../services/imports.ts";
import { type AppDeps, createApp } from "./app.ts";

export interface Server {
  port: number;
  /**
   * Stops the server (issue 29 §6): no new connection; the imports running or queued get up to
   * `timeoutMs` to finish, then are cancelled (recorded as failed, to be sent again); the open
   * connections are then closed. Resolves with what became of the imports.
   */
  close(timeoutMs?: number): Promise<{ finished: number; cancelled: number }>;
}

/** Listens on `host`:`port` (0: a free port) with the application of `deps`. */
export function startServer(deps: AppDeps, port: number, host = "0.0.0.0"): Promise<Server> {
  const log = deps.log ?? ((e) => process.stderr.write(`${JSON.stringify(e)}\n`));
  const uploads = deps.uploads ?? new UploadQueue(deps.db, log);
  const app = createApp({ ...deps, uploads });
  return new Promise((resolve) => {
    const server = honoServe({ fetch: app.fetch, port, hostname: host }, (info) => {
      resolve({
        port: info.port,
        async close(timeoutMs = 30_000) {
          const closed = new Promise<void>((r) => server.close(() => r()));
          // Idle keep-alive connections would hold `close` open: closed at once; requests in flight
          // (an upload being received) end on their own, or when the imports are done.
          (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
          const imports = await uploads.shutdown(timeoutMs);
          (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
          await closed;
          return imports;
        },
      });
    });
  });
}
