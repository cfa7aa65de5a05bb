/**
 * What this process knows about group memberships Sesame itself added (Okta, Entra and GitHub
 * record no "added by" on a membership). A key is noted *before* the add call and dropped after
 * the removal, so that a grant retried after its add went through (the answer was lost, the
 * process did not record it) and a second grant of the same group find the membership Sesame's,
 * not one that existed before. Memory only: after a restart, a membership found in place counts as
 * one Sesame did not add, and is never removed (see the connectors' READMEs).
 */
export class MembershipLedger {
  readonly #added = new Set<string>();

  note(key: string): void {
    this.#added.add(key);
  }

  forget(key: string): void {
    this.#added.delete(key);
  }

  addedBySesame(key: string): boolean {
    return this.#added.has(key);
  }
}
