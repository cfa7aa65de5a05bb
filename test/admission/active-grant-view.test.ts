import { describe, expect, it } from "vitest";
import { ActiveGrantView } from "../../src/admission/active-grant-view.js";
import type { GrantChange } from "../../src/domain/grant.js";

const at = new Date("2026-12-07T12:00:00Z");
const change = (version: number, status: GrantChange["status"], id = "g1"): GrantChange => ({
  id,
  subjectId: "alice",
  resourceId: "prod-exec",
  status,
  expiresAt: at,
  version,
});
const held = (view: ActiveGrantView) => [...view.grantsOf("alice")].map((grant) => grant.id);

describe("ActiveGrantView", () => {
  it("keeps active grants per person and drops them when they leave active", () => {
    const view = new ActiveGrantView();
    view.apply([change(2, "active"), change(2, "active", "g2")]);
    expect(held(view)).toEqual(["g1", "g2"]);
    view.apply([change(3, "revoking")]);
    expect(held(view)).toEqual(["g2"]);
    expect(view.has("g1")).toBe(false);
  });

  it("never lets an older report bring back a grant a newer one removed (catch-up read racing a notification)", () => {
    const view = new ActiveGrantView();
    view.apply([change(2, "active")]);
    view.apply([change(3, "revoking")]);
    view.apply([change(2, "active")]);
    expect(held(view)).toEqual([]);
  });

  it("forgets removed grants only after ten minutes", () => {
    let now = 0;
    const view = new ActiveGrantView(() => now);
    view.apply([change(3, "revoked")]);
    now = 9 * 60_000;
    view.forgetOld();
    view.apply([change(2, "active")]);
    expect(held(view)).toEqual([]);
    now = 21 * 60_000;
    view.forgetOld();
    view.apply([change(2, "active")]);
    expect(held(view)).toEqual(["g1"]);
  });

  it("a full read removes what it lacks and counts as a change", async () => {
    const view = new ActiveGrantView();
    view.apply([change(2, "active"), change(2, "active", "g2")]);
    const changed = view.until(() => view.version === 2);
    view.replaceActive([change(4, "active", "g2")]);
    await changed;
    expect(held(view)).toEqual(["g2"]);
  });
});

describe("ActiveGrantView, hearing a change twice", () => {
  it("does not count the same version again as a change", () => {
    const view = new ActiveGrantView();
    view.apply([change(2, "active")]);
    const version = view.version;
    view.apply([change(2, "active")]);
    expect(view.version).toBe(version);
  });
});
