import { z } from "zod";
import { credentialsDecodeCleanly } from "../url-credentials.js";

/** Connector config and resource targets of the `mysql` connector (see README.md). */

/** Query options the url may carry; anything else would reach mysql2 unchecked (e.g. multipleStatements). */
const URL_OPTIONS = new Set(["socketPath"]);

export const MysqlConfigSchema = z.strictObject({
  url: z
    .string()
    .regex(/^(mysql|mariadb):\/\//, "must be a mysql:// (or mariadb://) connection string")
    .refine(
      validUrl,
      "is not a valid URL (percent-encode special characters in the user and password; the only query option is socketPath)",
    )
    .describe("Connection string of Sesame's own account on the target; a secret, so give it as { env: VAR }"),
  ssl: z.enum(["disable", "require", "verify-full"]).default("disable").describe("TLS to the target"),
  accountHost: z
    .string()
    .regex(/^[A-Za-z0-9.%_:-]{1,255}$/, "must be a host pattern such as %, localhost or 10.0.%")
    // The server stores host names in lower case; comparing with grant tables needs the same.
    .transform((host) => host.toLowerCase())
    .default("%")
    .describe("Host part of every requester account: principal alice means 'alice'@'<accountHost>'"),
  ledgerDatabase: z
    .string()
    .regex(/^[A-Za-z0-9_$]{1,64}$/, "must be a plain database name")
    .default("sesame")
    .describe("Database holding Sesame's ledger table (which grant added what)"),
  connectTimeoutSeconds: z.coerce.number().int().min(1).max(300).default(10),
  maxConnections: z.coerce.number().int().min(1).max(20).default(2),
});
export type MysqlConfig = z.infer<typeof MysqlConfigSchema>;

/**
 * Privileges a target may grant, with their column in mysql.db and their name in
 * mysql.tables_priv (null: not a table-level privilege). GRANT OPTION and ALL are left out on purpose.
 */
export const PRIVILEGES = {
  SELECT: { dbColumn: "Select_priv", tableName: "Select" },
  INSERT: { dbColumn: "Insert_priv", tableName: "Insert" },
  UPDATE: { dbColumn: "Update_priv", tableName: "Update" },
  DELETE: { dbColumn: "Delete_priv", tableName: "Delete" },
  CREATE: { dbColumn: "Create_priv", tableName: "Create" },
  DROP: { dbColumn: "Drop_priv", tableName: "Drop" },
  INDEX: { dbColumn: "Index_priv", tableName: "Index" },
  ALTER: { dbColumn: "Alter_priv", tableName: "Alter" },
  REFERENCES: { dbColumn: "References_priv", tableName: "References" },
  TRIGGER: { dbColumn: "Trigger_priv", tableName: "Trigger" },
  "CREATE VIEW": { dbColumn: "Create_view_priv", tableName: "Create View" },
  "SHOW VIEW": { dbColumn: "Show_view_priv", tableName: "Show view" },
  "CREATE TEMPORARY TABLES": { dbColumn: "Create_tmp_table_priv", tableName: null },
  "LOCK TABLES": { dbColumn: "Lock_tables_priv", tableName: null },
  "CREATE ROUTINE": { dbColumn: "Create_routine_priv", tableName: null },
  "ALTER ROUTINE": { dbColumn: "Alter_routine_priv", tableName: null },
  EXECUTE: { dbColumn: "Execute_priv", tableName: null },
  EVENT: { dbColumn: "Event_priv", tableName: null },
} as const;
export type Privilege = keyof typeof PRIVILEGES;
const PRIVILEGE_NAMES = Object.keys(PRIVILEGES) as [Privilege, ...Privilege[]];

const PrivilegeSchema = z
  .string()
  .transform((name) => name.trim().replace(/\s+/g, " ").toUpperCase())
  .pipe(z.enum(PRIVILEGE_NAMES, { error: `must be one of ${PRIVILEGE_NAMES.join(", ")}` }));

/** `db.*` or `db.table`; plain names only, so no LIKE wildcard (`%`) or quoting can sneak in. */
const GRANT_OBJECT = /^([A-Za-z0-9_$]{1,64})\.(\*|[A-Za-z0-9_$]{1,64})$/;

export interface GrantObject {
  database: string;
  /** null for every table of the database (`db.*`). */
  table: string | null;
}

export function parseGrantObject(on: string): GrantObject {
  const match = GRANT_OBJECT.exec(on);
  if (match === null) throw new Error(`not a grant object: ${on}`);
  return { database: match[1]!, table: match[2] === "*" ? null : match[2]! };
}

/** Role and user names: plain names only; the server's own words NONE and PUBLIC are not roles. */
const NAME = /^[A-Za-z0-9_.-]{1,80}$/;
export const RoleNameSchema = z
  .string()
  .regex(NAME, "must be 1-80 letters, digits, _ . or -")
  .refine((name) => !["NONE", "PUBLIC"].includes(name.toUpperCase()), "NONE and PUBLIC are not role names");

export const RoleTargetSchema = z.strictObject({
  mode: z.literal("role"),
  role: RoleNameSchema.describe("Existing role granted to the requester's account"),
  defaultRole: z
    .boolean()
    .default(true)
    .describe("Make the role active at login (SET DEFAULT ROLE); needs UPDATE on mysql.* on MariaDB"),
});
export type RoleTarget = z.infer<typeof RoleTargetSchema>;

export const PrivilegesTargetSchema = z
  .strictObject({
    mode: z.literal("privileges"),
    privileges: z
      .array(PrivilegeSchema)
      .min(1, "must name at least one privilege")
      .transform((names) => [...new Set(names)].sort()),
    on: z.string().regex(GRANT_OBJECT, "must be db.* or db.table (letters, digits, _ and $ only)"),
  })
  .superRefine((target, context) => {
    // Zod runs this even when `on` failed its regex; that issue is already reported.
    if (!GRANT_OBJECT.test(target.on) || parseGrantObject(target.on).table === null) return;
    for (const privilege of target.privileges) {
      if (PRIVILEGES[privilege].tableName === null)
        context.addIssue({
          code: "custom",
          path: ["privileges"],
          message: `${privilege} cannot be granted on a single table; use db.*`,
        });
    }
  });
export type PrivilegesTarget = z.infer<typeof PrivilegesTargetSchema>;

export const MysqlTargetSchema = z.discriminatedUnion("mode", [RoleTargetSchema, PrivilegesTargetSchema]);
export type MysqlTarget = z.infer<typeof MysqlTargetSchema>;

/** A principal is an account's user name; the host part always comes from `accountHost`. */
export function principalProblem(principal: string): string | undefined {
  return NAME.test(principal)
    ? undefined
    : "must be an account user name of 1-80 letters, digits, _ . or - (no @host: the host comes from the connector's accountHost)";
}

function validUrl(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const parsed = new URL(url);
  return credentialsDecodeCleanly(parsed) && [...parsed.searchParams.keys()].every((key) => URL_OPTIONS.has(key));
}
