import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rename, rm } from "node:fs/promises";
import { request } from "node:https";
import { join } from "node:path";
import { promisify } from "node:util";

/**
 * AdmissionReview bodies shaped as the API server sends them (admission.k8s.io/v1, per the
 * Kubernetes documentation "Dynamic Admission Control": `kubectl exec` is a CONNECT on
 * pods/exec whose object is a PodExecOptions).
 */

export interface ReviewOptions {
  namespace?: string;
  username?: string;
  groups?: string[];
  dryRun?: boolean;
  uid?: string;
}

export function execReview(options: ReviewOptions = {}) {
  const pods = { group: "", version: "v1", resource: "pods" };
  const kind = { group: "", version: "v1", kind: "PodExecOptions" };
  return {
    kind: "AdmissionReview",
    apiVersion: "admission.k8s.io/v1",
    request: {
      uid: options.uid ?? randomUUID(),
      kind,
      resource: pods,
      subResource: "exec",
      requestKind: kind,
      requestResource: pods,
      requestSubResource: "exec",
      name: "web-7d4b9c-x2x8q",
      namespace: options.namespace ?? "prod",
      operation: "CONNECT",
      userInfo: {
        username: options.username ?? "alice@example.com",
        uid: "0c7f7b6e-2b1f-4d61-9d0b-6f0f1c2c1e55",
        groups: options.groups ?? ["system:authenticated"],
        extra: { "authentication.kubernetes.io/credential-id": ["X509SHA256=1234"] },
      },
      object: {
        kind: "PodExecOptions",
        apiVersion: "v1",
        stdin: true,
        stdout: true,
        tty: true,
        container: "web",
        command: ["/bin/sh"],
      },
      oldObject: null,
      dryRun: options.dryRun ?? false,
      options: null,
    },
  };
}

/** `kubectl delete deployment api -n <ns>`: a DELETE whose object is null and oldObject the deployment. */
export function deleteDeploymentReview(options: ReviewOptions = {}) {
  const deployments = { group: "apps", version: "v1", resource: "deployments" };
  const kind = { group: "apps", version: "v1", kind: "Deployment" };
  return {
    kind: "AdmissionReview",
    apiVersion: "admission.k8s.io/v1",
    request: {
      uid: options.uid ?? randomUUID(),
      kind,
      resource: deployments,
      requestKind: kind,
      requestResource: deployments,
      name: "api",
      namespace: options.namespace ?? "prod",
      operation: "DELETE",
      userInfo: {
        username: options.username ?? "alice@example.com",
        groups: options.groups ?? ["system:authenticated"],
      },
      object: null,
      oldObject: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "api", namespace: "prod" } },
      dryRun: options.dryRun ?? false,
      options: { kind: "DeleteOptions", apiVersion: "meta.k8s.io/v1", propagationPolicy: "Background" },
    },
  };
}

export interface Answer {
  status: number;
  body: any;
}

export async function postJson(url: string, body: unknown): Promise<Answer> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** POST over HTTPS trusting only `ca`; also returns the fingerprint of the certificate the server showed. */
export function postTls(url: string, body: unknown, ca: string): Promise<Answer & { fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "POST", ca, headers: { "content-type": "application/json" }, agent: false },
      (res) => {
        const fingerprint = (res.socket as import("node:tls").TLSSocket).getPeerCertificate().fingerprint256;
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null, fingerprint });
        });
      },
    );
    req.on("error", reject);
    req.end(typeof body === "string" ? body : JSON.stringify(body));
  });
}

const run = promisify(execFile);

/**
 * A throw-away self-signed certificate for 127.0.0.1, written to `dir` as cert.pem and key.pem:
 * made beside them and renamed into place, as a renewed Secret's files are swapped in.
 */
export async function writeSelfSignedCertificate(
  dir: string,
  name = "sesame-admission",
): Promise<{ cert: string; key: string }> {
  const scratch = await mkdtemp(join(dir, "new-"));
  try {
    await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      `/CN=${name}`,
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-keyout",
      join(scratch, "key.pem"),
      "-out",
      join(scratch, "cert.pem"),
    ]);
    const paths = { cert: join(dir, "cert.pem"), key: join(dir, "key.pem") };
    await rename(join(scratch, "key.pem"), paths.key);
    await rename(join(scratch, "cert.pem"), paths.cert);
    return paths;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
