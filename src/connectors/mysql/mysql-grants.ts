import { z } from "zod";
import { AppError } from "../../domain/errors.js";
import type { GrantReceipt } from "../connector.js";
import { type GrantItem, grantsAccess, ItemOperations, itemKey, itemsFor } from "./grant-items.js";
import {
  ensureLedger,
  extendRows,
  type LedgerRow,
  ledgerRows,
  markApplied,
  markNotApplied,
  markRevoked,
  otherHolder,
  recordItem,
  sesameAdded,
} from "./grant-ledger.js";
import type { MysqlTarget } from "./mysql-config.js";
import type { Flavour } from "./mysql-flavour.js";
import { endSessions } from "./mysql-sessions.js";
import { type Account, accountLabel, type Queryable } from "./mysql-sql.js";

/**
 * Grant, revoke and verify for both target modes. Sesame only takes away what it added: items
 * the account had before the grant (`preexisting`) stay. An item another active Sesame grant
 * also added stays until the last of those grants is revoked (or has expired).
 */

export interface Session {
  client: Queryable;
  flavour: Flavour;
  ledgerDatabase: string;
  account: Account;
  grantId: string;
  /** The grant's expiry: its ledger rows hold the items for other grants until then. */
  expiresAt: Date;
}

type Decision = Pick<LedgerRow, "preexisting" | "previous">;

export async function grantAccess(session: Session, target: MysqlTarget): Promise<GrantReceipt> {
  const { client, flavour, ledgerDatabase, account, grantId } = session;
  await ensureLedger(client, ledgerDatabase);
  if (!(await flavour.accountExists(client, account))) {
    throw new AppError(
      "connector_failed",
      `The principal has no account ${accountLabel(account)} on the target. Create that account, or fix the identity mapping or the connector's accountHost.`,
    );
  }
  if (target.mode === "role" && !(await flavour.roleExists(client, target.role))) {
    throw new AppError(
      "connector_failed",
      `Role "${target.role}" does not exist on the target. Create it, or fix this resource's target in the policy file.`,
    );
  }
  const operations = new ItemOperations(client, flavour, account);
  const own = await ledgerRows(client, ledgerDatabase, grantId);
  const recorded = new Map(own.rows.map((row) => [row.item, row]));
  const items: (Decision & { item: string })[] = [];
  const added: { item: GrantItem; previous: string | null }[] = [];
  try {
    for (const item of itemsFor(target)) {
      const key = itemKey(item);
      const present = await operations.present(item);
      let row = recorded.get(key);
      if (row?.revoked === true)
        throw new AppError("conflict", `Grant ${grantId} was already revoked on the target; request access again.`);
      if (row === undefined) {
        const owner = present ? await sesameAdded(client, ledgerDatabase, grantId, account, key) : undefined;
        const previous = owner?.previous ?? (present ? null : await operations.displaced(item));
        row = { item: key, preexisting: present && owner === undefined, previous, revoked: false };
      }
      // A first attempt's row (or one the previous version's table kept) goes into the current table as it was.
      if (own.legacy || !recorded.has(key))
        await recordItem(client, ledgerDatabase, grantId, account, row, session.expiresAt);
      if (!row.preexisting && !present) {
        await operations.add(item);
        added.unshift({ item, previous: row.previous });
      }
      items.push({ item: key, preexisting: row.preexisting, previous: row.previous });
    }
    await markApplied(client, ledgerDatabase, grantId, session.expiresAt);
  } catch (error) {
    // A half-done grant gives nothing: undo this call's additions (best effort; a revoke would finish it),
    // and its rows hold nothing for other grants.
    for (const { item, previous } of added) await operations.remove(item, previous).catch(() => undefined);
    await markNotApplied(client, ledgerDatabase, grantId).catch(() => undefined);
    throw error;
  }
  const preexisting = itemsFor(target).every((item, index) => !grantsAccess(item) || items[index]!.preexisting);
  const summary = target.mode === "role" ? { role: target.role } : { privileges: target.privileges, on: target.on };
  return { data: { mode: target.mode, account: accountLabel(account), ...summary, preexisting, items } };
}

/** The extension moves the expiry up to which this grant's rows hold its items for other grants. */
export async function extendAccess(session: Session): Promise<void> {
  await extendRows(session.client, session.ledgerDatabase, session.grantId, session.expiresAt);
}

const ReceiptItemsSchema = z.object({
  items: z.array(z.object({ item: z.string(), preexisting: z.boolean(), previous: z.string().nullable() })),
});

/**
 * What this grant added: from the receipt (kept in Sesame's own database, out of reach of anyone
 * who can write the ledger on the target) when there is one, else from the ledger. No record at
 * all means the grant never got as far as adding anything. `revoked`: the ledger says an earlier
 * revoke finished.
 */
async function decisions(
  session: Session,
  receipt: Record<string, unknown> | null,
): Promise<{ revoked: boolean; items: Map<string, Decision> }> {
  const { rows } = await ledgerRows(session.client, session.ledgerDatabase, session.grantId);
  const revoked = rows.length > 0 && rows.every((row) => row.revoked);
  const parsed = ReceiptItemsSchema.safeParse(receipt);
  const decided: (Decision & { item: string })[] = parsed.success ? parsed.data.items : rows;
  return { revoked, items: new Map(decided.map((row) => [row.item, row])) };
}

/** Items this grant must remove itself: added by it and not also held by another active grant. */
async function ownedItems(session: Session, target: MysqlTarget, decided: Map<string, Decision>) {
  const owned: { item: GrantItem; previous: string | null }[] = [];
  const now = new Date();
  for (const item of itemsFor(target).reverse()) {
    const decision = decided.get(itemKey(item));
    if (decision === undefined || decision.preexisting) continue;
    if (await otherHolder(session.client, session.ledgerDatabase, session.grantId, session.account, itemKey(item), now))
      continue;
    owned.push({ item, previous: decision.previous });
  }
  return owned;
}

export async function revokeAccess(
  session: Session,
  target: MysqlTarget,
  receipt: Record<string, unknown> | null,
): Promise<void> {
  const decided = await decisions(session, receipt);
  const operations = new ItemOperations(session.client, session.flavour, session.account);
  const owned = await ownedItems(session, target, decided.items);
  // A revoked mark in the ledger (which others may write) never stops removing what is still there.
  let removed = false;
  for (const { item, previous } of owned) {
    if (!(await operations.present(item))) continue;
    await operations.remove(item, previous);
    removed ||= grantsAccess(item);
  }
  // Also when the access was already removed out of band: open sessions still hold it. A repeated revoke ends none.
  if (removed || (!decided.revoked && owned.some(({ item }) => grantsAccess(item))))
    await endSessions(session.client, session.account.user);
  await markRevoked(session.client, session.ledgerDatabase, session.grantId);
}

/** True when nothing this grant added still gives access (SHOW GRANTS would show none of it). */
export async function accessRevoked(
  session: Session,
  target: MysqlTarget,
  receipt: Record<string, unknown> | null,
): Promise<boolean> {
  const decided = await decisions(session, receipt);
  const operations = new ItemOperations(session.client, session.flavour, session.account);
  for (const { item } of await ownedItems(session, target, decided.items)) {
    if (grantsAccess(item) && (await operations.present(item))) return false;
  }
  return true;
}
