import { EnvError } from "../config/env.js";
import { type AdmissionRoutes, admissionRoutes } from "../http/admission-routes.js";
import type { Runtime } from "../runtime.js";
import { appendAuditEvents } from "../storage/audit-repository.js";
import { startGrantChangeFeed } from "../storage/grant-change-feed.js";
import { sqlPoolOf } from "../storage/prisma-client.js";
import { ActiveGrantView } from "./active-grant-view.js";
import { type AdmissionAudit, createAdmissionAudit } from "./admission-audit.js";
import { createAdmissionHandler } from "./admission-handler.js";
import { type AdmissionTlsServer, startAdmissionTlsServer } from "./admission-tls-server.js";

/**
 * The admission webhook of a web process: the in-memory view of active grants and its change
 * feed, the batched audit writer, the routes for the main HTTP server, and the TLS port when
 * SESAME_ADMISSION_PORT is set. With no guardrail in the policy, nothing is read or kept: every
 * review is allowed (it touches no guardrail).
 */

/** Grants changed without a notice (one lost anyway) are taken in within this. */
const CATCH_UP_MS = 5_000;
/** Past this without the database, guarded operations are refused: a revoke may have been missed. */
const OUT_OF_TOUCH_LIMIT_MS = 30_000;
const CERT_RELOAD_MS = 10_000;

export interface Admission {
  routes: AdmissionRoutes;
  view: ActiveGrantView;
  audit: AdmissionAudit;
  /** The HTTPS port's base URL, when SESAME_ADMISSION_PORT is set. */
  tls?: AdmissionTlsServer;
  /** Reads what changed since the last catch-up now (tests). */
  catchUp(): Promise<void>;
  stop(): Promise<void>;
}

function tlsSettings(runtime: Runtime): { port: number; certFile: string; keyFile: string } | undefined {
  const {
    SESAME_ADMISSION_PORT: port,
    SESAME_ADMISSION_TLS_CERT: certFile,
    SESAME_ADMISSION_TLS_KEY: keyFile,
  } = runtime.env;
  if (port === undefined && certFile === undefined && keyFile === undefined) return undefined;
  if (port === undefined || certFile === undefined || keyFile === undefined) {
    throw new EnvError([
      "SESAME_ADMISSION_PORT, SESAME_ADMISSION_TLS_CERT and SESAME_ADMISSION_TLS_KEY: set all three to serve the admission webhook over HTTPS, or none",
    ]);
  }
  return { port, certFile, keyFile };
}

export async function startAdmission(runtime: Runtime): Promise<Admission> {
  const { deps } = runtime;
  const settings = tlsSettings(runtime);
  const view = new ActiveGrantView();
  const guarded = runtime.policyFile.kubernetes.guardrails.length > 0;
  const feed = guarded
    ? startGrantChangeFeed(runtime.env.DATABASE_URL, view, {
        pollMs: CATCH_UP_MS,
        logger: deps.logger,
        changes: runtime.grantChanges,
      })
    : undefined;
  try {
    await feed?.ready;
  } catch (error) {
    await feed?.stop();
    throw error;
  }
  const audit = createAdmissionAudit({
    logger: deps.logger,
    write: (events) => appendAuditEvents(sqlPoolOf(runtime.db), events),
  });
  const handler = createAdmissionHandler({
    policyFile: runtime.policyFile,
    grantsOf: (personId) => view.grantsOf(personId),
    requestDuration: (personId, resourceId) => deps.policy().matchPolicy(personId, resourceId)?.duration.default,
    outOfTouchSince: () => feed?.outOfTouchSince(),
    outOfTouchLimitMs: OUT_OF_TOUCH_LIMIT_MS,
    audit,
    now: deps.now,
  });
  const routes = admissionRoutes(handler);
  let tls: AdmissionTlsServer | undefined;
  try {
    if (settings)
      tls = await startAdmissionTlsServer({
        host: runtime.env.HOST,
        ...settings,
        reloadMs: CERT_RELOAD_MS,
        routes,
        logger: deps.logger,
      });
  } catch (error) {
    await audit.stop();
    await feed?.stop();
    throw error;
  }
  return {
    routes,
    view,
    audit,
    tls,
    catchUp: async () => feed?.catchUp(),
    async stop() {
      await tls?.stop();
      await audit.stop();
      await feed?.stop();
    },
  };
}
