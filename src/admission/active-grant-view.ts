import type { HeldGrant } from "../domain/admission/admission-decision.js";
import type { GrantChange } from "../domain/grant.js";

/** How long a grant that left `active` is remembered, so a catch-up read older than its change cannot bring it back. */
const FORGET_AFTER_MS = 10 * 60_000;

/**
 * Sesame's active grants, in memory, per person: what the admission webhook answers from. Kept
 * current by the change feed (src/storage/grant-change-feed.ts); no I/O here. Changes are applied
 * only when newer than what the view already knows of the grant (by row version), so a catch-up
 * read and a notification may arrive in any order.
 */
export class ActiveGrantView {
  private readonly bySubject = new Map<string, Map<string, HeldGrant>>();
  private readonly known = new Map<string, { version: number; subjectId: string }>();
  /** Grants that left `active`, with when: forgotten after FORGET_AFTER_MS. */
  private readonly gone = new Map<string, { version: number; at: number }>();
  private changes = 0;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly monotonicMs: () => number = () => performance.now()) {}

  /** Counts the changes applied; a test awaits a change through `until`. */
  get version(): number {
    return this.changes;
  }

  get size(): number {
    return this.known.size;
  }

  grantsOf(subjectId: string): Iterable<HeldGrant> {
    return this.bySubject.get(subjectId)?.values() ?? [];
  }

  has(grantId: string): boolean {
    return this.known.has(grantId);
  }

  apply(changes: readonly GrantChange[]): void {
    let applied = false;
    for (const change of changes) applied = this.applyOne(change) || applied;
    if (applied) this.changed();
  }

  /**
   * A full read of the active grants (at start and after a reconnect, when notifications may have
   * been missed): grants it lacks have left `active` since the view last heard of them.
   */
  replaceActive(active: readonly GrantChange[]): void {
    const present = new Set(active.map((grant) => grant.id));
    for (const [id, { version }] of [...this.known]) {
      if (!present.has(id)) this.remove(id, version);
    }
    for (const grant of active) this.applyOne(grant);
    this.forgetOld();
    this.changed();
  }

  /** Resolves once `condition` holds, checked now and after every change. */
  until(condition: () => boolean): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve) => {
      const listener = () => {
        if (!condition()) return;
        this.listeners.delete(listener);
        resolve();
      };
      this.listeners.add(listener);
    });
  }

  private applyOne(change: GrantChange): boolean {
    const newest = this.known.get(change.id)?.version ?? this.gone.get(change.id)?.version ?? -1;
    if (change.version < newest) return false;
    // The same version again (a catch-up read re-reading a change already heard): nothing new.
    if (change.version === newest && this.known.has(change.id) === (change.status === "active")) return false;
    if (change.status === "active") {
      this.gone.delete(change.id);
      this.known.set(change.id, { version: change.version, subjectId: change.subjectId });
      const held = this.bySubject.get(change.subjectId) ?? new Map<string, HeldGrant>();
      this.bySubject.set(change.subjectId, held);
      held.set(change.id, { id: change.id, resourceId: change.resourceId, expiresAt: change.expiresAt });
    } else {
      this.remove(change.id, change.version);
    }
    return true;
  }

  private remove(id: string, version: number): void {
    const entry = this.known.get(id);
    if (entry) {
      this.known.delete(id);
      const held = this.bySubject.get(entry.subjectId);
      held?.delete(id);
      if (held?.size === 0) this.bySubject.delete(entry.subjectId);
    }
    this.gone.set(id, { version, at: this.monotonicMs() });
  }

  /** Drops what is remembered of grants that left `active` long ago (the feed calls it on every catch-up read). */
  forgetOld(): void {
    const before = this.monotonicMs() - FORGET_AFTER_MS;
    for (const [id, { at }] of this.gone) if (at < before) this.gone.delete(id);
  }

  private changed(): void {
    this.changes += 1;
    for (const listener of [...this.listeners]) listener();
  }
}
