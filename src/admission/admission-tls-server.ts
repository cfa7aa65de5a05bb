import { readFile } from "node:fs/promises";
import Fastify from "fastify";
import type { AdmissionRoutes } from "../http/admission-routes.js";
import { handleError } from "../http/error-handler.js";
import type { Logger } from "../services/ports.js";

/**
 * The webhook over HTTPS on its own port (the API server calls webhooks over HTTPS only). The
 * certificate and key are read from files and re-read every `reloadMs`: cert-manager renews them
 * in place (a mounted Secret), and the server takes a changed pair for new connections without
 * a restart. A pair that does not load is logged and the previous one kept.
 */

export interface AdmissionTlsServer {
  url: string;
  /** Re-reads the files now; true when a changed pair was taken. */
  reload(): Promise<boolean>;
  stop(): Promise<void>;
}

export interface AdmissionTlsOptions {
  host: string;
  port: number;
  certFile: string;
  keyFile: string;
  reloadMs: number;
  routes: AdmissionRoutes;
  logger: Logger;
}

export async function startAdmissionTlsServer(options: AdmissionTlsOptions): Promise<AdmissionTlsServer> {
  const { logger } = options;
  const read = async () => {
    const [cert, key] = await Promise.all([readFile(options.certFile), readFile(options.keyFile)]);
    return { cert, key };
  };
  let current = await read();
  const app = Fastify({ https: current, logger: false });
  app.setErrorHandler(handleError);
  app.get("/healthz", async () => ({ ok: true }));
  await app.register(options.routes);
  const url = await app.listen({ host: options.host, port: options.port });

  const reload = async (): Promise<boolean> => {
    try {
      const next = await read();
      if (next.cert.equals(current.cert) && next.key.equals(current.key)) return false;
      app.server.setSecureContext(next);
      current = next;
      logger.info({ certFile: options.certFile }, "admission webhook: new TLS certificate loaded");
      return true;
    } catch (error) {
      logger.warn(
        { err: error instanceof Error ? error.message : String(error), certFile: options.certFile },
        "admission webhook: the TLS certificate or key could not be loaded; keeping the previous pair",
      );
      return false;
    }
  };
  const timer = setInterval(() => void reload(), options.reloadMs);
  timer.unref();
  return {
    url,
    reload,
    async stop() {
      clearInterval(timer);
      await app.close();
    },
  };
}
