import type { InstallationQuery } from "@slack/oauth";
import type { AnyInstallation, SlackInstallationStore } from "../chat/slack/slack-installations.js";
import type { SecretBox } from "../services/ports.js";
import type { Database } from "./prisma-client.js";

/**
 * Bolt's installation store for multi-workspace (OAuth) mode, in the SlackInstallation table.
 * An installation holds bot tokens, so the row keeps it sealed with SESAME_ENCRYPTION_KEY; the
 * key is "E<enterprise id>" for org-wide installs, else "T<team id>".
 */

export function installationKey(source: {
  isEnterpriseInstall?: boolean | undefined;
  enterpriseId?: string | undefined;
  teamId?: string | undefined;
}): string {
  if (source.isEnterpriseInstall && source.enterpriseId) return `E${source.enterpriseId}`;
  if (source.teamId) return `T${source.teamId}`;
  throw new Error("a Slack installation names neither a team nor an enterprise");
}

/**
 * `allowedWorkspaces`: team (T…) or Enterprise Grid (E…) ids. Any other workspace can neither
 * install Sesame nor be served, since its admins control the emails Sesame maps people by.
 */
export function createSlackInstallationStore(
  db: Database,
  secrets: SecretBox,
  allowedWorkspaces: readonly string[],
): SlackInstallationStore {
  // Keys repeat the id's own first letter (installationKey): T0123 → "TT0123", E0123 → "EE0123".
  const allowed = new Set(allowedWorkspaces.map((id) => `${id.charAt(0)}${id}`));
  const refuseUnlisted = (key: string) => {
    if (!allowed.has(key))
      throw new Error(
        `Slack workspace ${key.slice(1)} is not in SLACK_ALLOWED_WORKSPACES; add its id there to let it use Sesame`,
      );
  };
  const open = (sealed: string): AnyInstallation =>
    JSON.parse(secrets.open(sealed).installation ?? "null") as AnyInstallation;
  const byKey = async (key: string) => {
    const row = await db.slackInstallation.findUnique({ where: { key } });
    return row ? open(row.sealed) : null;
  };
  return {
    async storeInstallation(installation) {
      const key = installationKey({
        isEnterpriseInstall: installation.isEnterpriseInstall,
        enterpriseId: installation.enterprise?.id,
        teamId: installation.team?.id,
      });
      refuseUnlisted(key);
      const sealed = secrets.seal({ installation: JSON.stringify(installation) });
      await db.slackInstallation.upsert({ where: { key }, create: { key, sealed }, update: { sealed } });
    },
    async fetchInstallation(query: InstallationQuery<boolean>) {
      const key = installationKey(query);
      refuseUnlisted(key);
      const installation = await byKey(key);
      if (!installation)
        throw new Error("Sesame is not installed in this Slack workspace; install it from /slack/install");
      return installation;
    },
    async deleteInstallation(query: InstallationQuery<boolean>) {
      await db.slackInstallation.deleteMany({ where: { key: installationKey(query) } });
    },
    async keys() {
      return (await db.slackInstallation.findMany({ select: { key: true }, orderBy: { createdAt: "asc" } })).map(
        (row) => row.key,
      );
    },
    byKey,
  };
}
