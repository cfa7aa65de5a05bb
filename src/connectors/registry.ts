import { AppError } from "../domain/errors.js";
import { awsIdentityCenterConnectorSpec } from "./aws-identity-center/aws-identity-center-spec.js";
import { configInvalid, describeIssues } from "./config-errors.js";
import type { Connector, ConnectorSpec } from "./connector.js";
import { entraGroupConnectorSpec } from "./entra-group/entra-group-spec.js";
import { gcpIamConnectorSpec } from "./gcp-iam/gcp-iam-spec.js";
import { githubTeamConnectorSpec } from "./github-team/github-team-spec.js";
import { kerberosConnectorSpec } from "./kerberos/kerberos-spec.js";
import { kubernetesConnectorSpec } from "./kubernetes/kubernetes-spec.js";
import { mysqlConnectorSpec } from "./mysql/mysql-spec.js";
import { noopConnectorSpec } from "./noop/noop-spec.js";
import { oktaGroupConnectorSpec } from "./okta-group/okta-group-spec.js";
import { postgresConnectorSpec } from "./postgres/postgres-spec.js";
import { redactSecrets } from "./redact.js";
import { redisAclConnectorSpec } from "./redis-acl/redis-acl-spec.js";
import { webhookConnectorSpec } from "./webhook/webhook-spec.js";

/**
 * Every connector type Sesame knows, and the only place that turns policy-file config into
 * connectors. Only the specs are imported here; an implementation loads when a connector of its
 * type is created, so a policy that uses PostgreSQL never loads the Kubernetes client.
 */

export type AnyConnectorSpec = ConnectorSpec<unknown, unknown>;

const DEFINITIONS: ReadonlyMap<string, AnyConnectorSpec> = new Map<string, AnyConnectorSpec>(
  [
    postgresConnectorSpec,
    noopConnectorSpec,
    webhookConnectorSpec,
    kubernetesConnectorSpec,
    kerberosConnectorSpec,
    redisAclConnectorSpec,
    mysqlConnectorSpec,
    awsIdentityCenterConnectorSpec,
    gcpIamConnectorSpec,
    oktaGroupConnectorSpec,
    entraGroupConnectorSpec,
    githubTeamConnectorSpec,
  ].map((definition) => [definition.type, definition]),
);

export function listTypes(): string[] {
  return [...DEFINITIONS.keys()].sort();
}

export function getDefinition(type: string): AnyConnectorSpec {
  const definition = DEFINITIONS.get(type);
  if (definition === undefined) {
    throw new AppError("config_invalid", `Unknown connector type "${type}". Known types: ${listTypes().join(", ")}.`, {
      details: { type },
    });
  }
  return definition;
}

/** A config value written as `{ env: "VAR" }` in the policy file. */
export interface EnvReference {
  env: string;
}

export interface ResolvedConnectorConfig {
  config: Record<string, unknown>;
  /** The values of secret fields, for redaction. */
  secrets: string[];
}

const isEnvReference = (value: unknown): value is EnvReference =>
  typeof value === "object" &&
  value !== null &&
  Object.keys(value).length === 1 &&
  typeof (value as { env?: unknown }).env === "string";

/**
 * Replaces `{ env: "VAR" }` references with values from `env`. Secret fields must be references:
 * a secret written into the policy file would end up in git, backups and editor history.
 */
export function resolveConnectorConfig(
  name: string,
  definition: Pick<AnyConnectorSpec, "secretFields">,
  rawConfig: Record<string, unknown>,
  env: Record<string, string | undefined>,
): ResolvedConnectorConfig {
  const config: Record<string, unknown> = {};
  const secrets: string[] = [];
  const problems: string[] = [];
  for (const [field, value] of Object.entries(rawConfig)) {
    const secret = definition.secretFields.includes(field);
    if (!isEnvReference(value)) {
      if (secret)
        problems.push(
          `connector "${name}" config.${field} is a secret: write { env: "SOME_VARIABLE" } and set that environment variable instead of the value`,
        );
      else config[field] = value;
      continue;
    }
    const resolved = env[value.env];
    if (resolved === undefined || resolved === "") {
      problems.push(`connector "${name}" config.${field}: environment variable ${value.env} is not set`);
      continue;
    }
    config[field] = resolved;
    if (secret) secrets.push(resolved);
  }
  if (problems.length > 0) throw configInvalid(problems, { connector: name });
  return { config, secrets };
}

export interface CreateConnectorInput {
  /** The connector's name in the policy file, used in every message. */
  name: string;
  type: string;
  /** Resolved values (see resolveConnectorConfig). */
  config: Record<string, unknown>;
}

export async function createConnector(input: CreateConnectorInput): Promise<Connector> {
  const definition = getDefinition(input.type);
  const secrets = definition.secretFields
    .map((field) => input.config[field])
    .filter((value): value is string => typeof value === "string" && value !== "");
  const result = definition.configSchema.safeParse(input.config);
  if (!result.success) {
    const problems = describeIssues(result.error, `connector "${input.name}" config`).map((problem) =>
      redactSecrets(problem, secrets),
    );
    throw configInvalid(problems, { connector: input.name });
  }
  const implementation = await definition.load();
  return implementation.create(result.data, { name: input.name, secrets });
}

/** Validates a resource's target for a connector type; returns the parsed target (defaults applied). */
export function validateTarget(type: string, target: unknown, resourceName?: string): Record<string, unknown> {
  const where = resourceName === undefined ? `${type} target` : `resource "${resourceName}" target`;
  const details = { type, ...(resourceName === undefined ? {} : { resource: resourceName }) };
  const result = getDefinition(type).targetSchema.safeParse(target);
  if (!result.success) throw configInvalid(describeIssues(result.error, where), details);
  if (typeof result.data !== "object" || result.data === null || Array.isArray(result.data))
    throw configInvalid([`${where}: must be an object`], details);
  return result.data as Record<string, unknown>;
}
