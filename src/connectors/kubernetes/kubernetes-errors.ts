import { ApiException } from "@kubernetes/client-node";
import { AppError } from "../../domain/errors.js";
import { CONNECTION_LOST_CODES, connectionLostHint } from "../connection-lost.js";
import { describeError, errorCode, toConnectorError } from "../redact.js";

/**
 * Turns client errors into operator advice. The client's own ApiException message dumps the
 * response body and headers over several lines; this keeps the API server's Status message.
 */

const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"]);
const TLS = /certificate|self[- ]signed|CERT_|SSL|TLS/i;

/** The `message` of a Kubernetes Status object in the error body, if there is one. */
function statusMessage(error: ApiException<unknown>): string | undefined {
  try {
    const body: unknown = typeof error.body === "string" ? JSON.parse(error.body) : error.body;
    const message = (body as { message?: unknown } | null)?.message;
    return typeof message === "string" && message !== "" ? message : undefined;
  } catch {
    return undefined;
  }
}

/** One line: what went wrong, without secrets. */
export function describeKubernetesError(error: unknown, secrets: readonly string[]): string {
  if (error instanceof ApiException) {
    const reason = statusMessage(error) ?? (error.code === 401 ? "Unauthorized" : "no details");
    return describeError(new Error(`HTTP ${error.code}: ${reason}`), secrets);
  }
  if (error instanceof Error && error.name === "AbortError") return "the API server did not answer in time";
  return describeError(error, secrets);
}

export function kubernetesHint(error: unknown): string {
  if (error instanceof ApiException) {
    switch (error.code) {
      case 401:
        return "The API server did not accept the connector's token: check the environment variable it comes from and that the service account still exists.";
      case 403:
        return "Sesame's service account lacks an RBAC permission: see src/connectors/kubernetes/README.md for the Role it needs.";
      case 404:
        return "The namespace does not exist, or the server URL does not point at the API server.";
      default:
        return "Check the API server and Sesame's permissions there (see src/connectors/kubernetes/README.md), then retry.";
    }
  }
  const code = errorCode(error);
  const text = describeError(error, []);
  if (TLS.test(text) || (code !== undefined && TLS.test(code))) {
    return "The API server's certificate was not trusted: set caData to the cluster's CA (certificate-authority-data in a kubeconfig).";
  }
  // A connection that ended before the answer did: node-fetch says "socket hang up" (ECONNRESET) or "Premature close".
  if (code !== undefined && (CONNECTION_LOST_CODES.has(code) || code === "ERR_STREAM_PREMATURE_CLOSE"))
    return connectionLostHint("the API server");
  if ((code !== undefined && UNREACHABLE.has(code)) || (error instanceof Error && error.name === "AbortError")) {
    return "Check the connector's server URL and that the API server accepts connections from Sesame, then retry.";
  }
  return "Check the connector's server URL and the API server, then retry.";
}

export function toKubernetesError(
  error: unknown,
  connector: string,
  action: string,
  secrets: readonly string[],
): AppError {
  if (error instanceof AppError) return toConnectorError(error, { connector, action, secrets, hint: "" });
  const reason = `${describeKubernetesError(error, secrets)}. ${kubernetesHint(error)}`;
  return toConnectorError(
    new AppError("connector_failed", reason, {
      details: error instanceof ApiException ? { httpStatus: error.code } : {},
    }),
    {
      connector,
      action,
      secrets,
      hint: "",
    },
  );
}

/** The short reason plus advice, for `check()` problems. */
export function kubernetesProblem(prefix: string, error: unknown, secrets: readonly string[]): string {
  return `${prefix}: ${describeKubernetesError(error, secrets)}. ${kubernetesHint(error)}`;
}
