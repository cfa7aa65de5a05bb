import { type Kadmin, KadminFailure } from "./kadmin-runner.js";

/**
 * Reads and toggles one principal. Sesame marks a principal it enabled with a string attribute
 * (`setstr`; the KDC ignores keys it does not know): that marker is how a revoke without a receipt,
 * or a second grant, tells Sesame's enabling apart from one an administrator did by hand.
 */

export const MARKER = "sesame_grant";

/** KRB5_KDB_DISALLOW_ALL_TIX in the attribute bits of `getprinc -terse`. */
const DISALLOW_ALL_TIX = 0x40;

export interface PrincipalState {
  enabled: boolean;
  /** The principal's expiration date; null when it never expires. */
  expiresAt: Date | null;
  maxLifeSeconds: number;
  maxRenewableLifeSeconds: number;
  /** Grant id in Sesame's marker; undefined when Sesame did not enable the principal. */
  markedBy: string | undefined;
}

/** The principal's state, or null when it does not exist. */
export async function readPrincipal(kadmin: Kadmin, principal: string): Promise<PrincipalState | null> {
  let terse: string;
  try {
    terse = await kadmin.run(["getprinc", "-terse", principal]);
  } catch (error) {
    if (error instanceof KadminFailure && error.kind === "missing") return null;
    throw error;
  }
  // Fields: name, expiration, last password change, password expiration, max life, modifier,
  // modification date, attributes, kvno, mkvno, policy, max renewable life, ...
  const fields =
    terse
      .split("\n")
      .find((line) => line.startsWith('"'))
      ?.split("\t") ?? [];
  const number = (index: number): number => {
    const value = Number(fields[index]);
    if (fields[index] === undefined || !Number.isInteger(value))
      throw new KadminFailure("other", `unexpected getprinc output for ${principal}`);
    return value;
  };
  const expiration = number(1);
  return {
    enabled: (number(7) & DISALLOW_ALL_TIX) === 0,
    expiresAt: expiration === 0 ? null : new Date(expiration * 1000),
    maxLifeSeconds: number(4),
    maxRenewableLifeSeconds: number(11),
    markedBy: await readMarker(kadmin, principal),
  };
}

async function readMarker(kadmin: Kadmin, principal: string): Promise<string | undefined> {
  const output = await kadmin.run(["getstrs", principal]);
  const line = output.split("\n").find((entry) => entry.startsWith(`${MARKER}: `));
  return line?.slice(MARKER.length + 2).trim();
}

export interface Enabling {
  grantId: string;
  expiresAt: Date;
  maxLifeSeconds: number;
}

export async function enablePrincipal(kadmin: Kadmin, principal: string, enabling: Enabling): Promise<void> {
  // Marker first: if Sesame dies in between, a later revoke still knows the enabling is its own.
  await kadmin.run(["setstr", principal, MARKER, enabling.grantId]);
  await kadmin.run([
    "modprinc",
    "+allow_tix",
    "-expire",
    kadminDate(enabling.expiresAt),
    "-maxlife",
    `${enabling.maxLifeSeconds} seconds`,
    // Otherwise tickets stay renewable for the realm's renewable life, past the grant.
    "-maxrenewlife",
    "0 seconds",
    principal,
  ]);
}

export async function disablePrincipal(kadmin: Kadmin, principal: string): Promise<void> {
  await kadmin.run(["modprinc", "-allow_tix", principal]);
  try {
    await kadmin.run(["delstr", principal, MARKER]);
  } catch (error) {
    // Deleted between the two calls: nothing is left to unmark.
    if (!(error instanceof KadminFailure && error.kind === "missing")) throw error;
  }
}

/** An absolute UTC date in a form kadmin's date parser reads exactly (relative dates drift). */
export function kadminDate(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}
