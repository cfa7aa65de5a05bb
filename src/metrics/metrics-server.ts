import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../services/ports.js";
import { scrapeAllowed, UNAUTHORIZED_BODY } from "./metrics-endpoint.js";
import type { SesameMetrics } from "./sesame-metrics.js";

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Worker processes serve no API, so they serve GET /metrics (and /healthz) on SESAME_METRICS_PORT
 * with a server of their own. A failed scrape answers 500 and is logged; it never stops the worker.
 */
export async function startMetricsServer(
  metrics: SesameMetrics,
  options: { port: number; host: string; token?: string; logger: Logger },
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    res.on("error", () => undefined);
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" || (path !== "/metrics" && path !== "/healthz")) {
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":{"code":"not_found"}}');
      return;
    }
    if (path === "/healthz") {
      res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
      return;
    }
    if (!scrapeAllowed(req.headers.authorization, options.token)) {
      res.writeHead(401, { "content-type": "application/json", "www-authenticate": "Bearer" }).end(UNAUTHORIZED_BODY);
      return;
    }
    metrics.scrape().then(
      ({ contentType, body }) => res.writeHead(200, { "content-type": contentType }).end(body),
      (error: unknown) => {
        options.logger.warn({ error: error instanceof Error ? error.message : String(error) }, "metrics scrape failed");
        res.writeHead(500, { "content-type": "text/plain" }).end("metrics unavailable\n");
      },
    );
  });
  server.on("clientError", (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (error) => options.logger.error({ error: error.message }, "metrics server error"));
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host === "0.0.0.0" || host === "[::]" ? "127.0.0.1" : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
