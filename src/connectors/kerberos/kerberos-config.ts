import { z } from "zod";

/** Connector config and resource targets of the `kerberos` connector (see README.md). */

/**
 * One principal component. The first character must not be `-` (kadmin would read the name as an
 * option); quotes, spaces, `@`, `/` and control characters never reach a kadmin argument.
 */
const COMPONENT = "[A-Za-z0-9][A-Za-z0-9._-]{0,127}";
const REALM = "[A-Za-z0-9][A-Za-z0-9._-]{0,254}";
const PRINCIPAL = new RegExp(`^(${COMPONENT})(?:/(${COMPONENT}))?(?:@(${REALM}))?$`);

/** Principals of the KDC itself: enabling or disabling one would break the realm. */
const RESERVED_NAMES = new Set(["krbtgt", "kadmin", "kiprop", "changepw", "wellknown"]);
const isReserved = (name: string, instance: string | undefined): boolean =>
  RESERVED_NAMES.has(name.toLowerCase()) || (name === "K" && instance === "M");

const PathSchema = z
  .string()
  .min(1)
  .refine((path) => !path.includes("\0"), "must not contain a NUL character");

const RealmSchema = z.string().regex(new RegExp(`^${REALM}$`), "must be a realm name such as EXAMPLE.COM");

const PrincipalNameSchema = z
  .string()
  .regex(
    PRINCIPAL,
    "must be name, name/instance or name/instance@REALM (letters, digits, . _ -; no quotes, spaces or leading -)",
  );

const Common = {
  realm: RealmSchema.describe("The Kerberos realm, e.g. EXAMPLE.COM"),
  krb5Config: PathSchema.optional().describe(
    "krb5.conf to use (KRB5_CONFIG of the kadmin process); default: the system's",
  ),
  command: PathSchema.optional().describe("Path of the kadmin (or kadmin.local) program; default: found on PATH"),
  timeoutSeconds: z.coerce.number().int().min(1).max(300).default(15),
};

export const KadminConfigSchema = z.strictObject({
  mode: z.literal("kadmin"),
  ...Common,
  adminServer: z
    .string()
    .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*)(:\d{1,5})?$/, "must be host or host:port")
    .optional()
    .describe("kadmind's host:port; default: admin_server of the realm in krb5.conf"),
  adminPrincipal: PrincipalNameSchema.describe("Sesame's own principal on the KDC, e.g. sesame/kadmin"),
  keytab: PathSchema.describe("Keytab file holding Sesame's key; its content is never read into a message"),
});

export const KadminLocalConfigSchema = z.strictObject({
  mode: z.literal("kadmin.local"),
  ...Common,
  kdcProfile: PathSchema.optional().describe("kdc.conf to use (KRB5_KDC_PROFILE); default: the system's"),
});

export const KerberosConfigSchema = z.preprocess(
  // `mode` may be left out: talking to kadmind with a keytab is the common case.
  (value) => (isPlainObject(value) && !("mode" in value) ? { ...value, mode: "kadmin" } : value),
  z.discriminatedUnion("mode", [KadminConfigSchema, KadminLocalConfigSchema]),
);
export type KerberosConfig = z.infer<typeof KerberosConfigSchema>;

export const KerberosTargetSchema = z.strictObject({
  instance: z
    .string()
    .regex(new RegExp(`^${COMPONENT}$`), "must be a principal instance such as admin")
    .optional()
    .describe(
      "Only principals with this instance (e.g. admin) may be granted: a guard against a mapping that renders another principal",
    ),
  maxTicketLifeSeconds: z
    .number()
    .int()
    .min(60)
    .max(7 * 86_400)
    .default(3600)
    .describe("Cap on the ticket life; tickets outlive a revoke by up to this long, so keep it short"),
});
export type KerberosTarget = z.infer<typeof KerberosTargetSchema>;

/**
 * Applies the format, realm, reserved-name and instance rules to a principal; on success returns
 * `name[/instance]@REALM`, the only spelling Sesame passes to kadmin.
 */
export function parsePrincipal(
  principal: string,
  realm: string,
  instance?: string,
): { full: string } | { problem: string } {
  const match = PRINCIPAL.exec(principal);
  if (match === null)
    return { problem: "is not a valid Kerberos principal name (letters, digits, . _ - in name[/instance][@REALM])" };
  const [, name = "", ownInstance, ownRealm] = match;
  if (ownRealm !== undefined && ownRealm !== realm)
    return { problem: `belongs to realm ${ownRealm}, but this connector manages ${realm}` };
  if (isReserved(name, ownInstance))
    return { problem: "is one of the KDC's own principals, which Sesame never touches" };
  if (instance !== undefined && ownInstance !== instance)
    return { problem: `must have the instance "${instance}" (name/${instance}) required by the resource` };
  return { full: `${name}${ownInstance === undefined ? "" : `/${ownInstance}`}@${realm}` };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
