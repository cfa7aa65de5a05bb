import { describe, expect, it } from "vitest";
import type { RequestFormModel } from "../../../src/chat/core/request-form.js";
import { parseCardData } from "../../../src/chat/teams/card-data.js";
import { requestFormCard } from "../../../src/chat/teams/request-form-card.js";
import { adaptiveCardProblems } from "./schemas.js";

/** The Teams request form's "Run one action" field (issue 14): offered only where actions are allowed, kept as typed. */

const resource = (id: string, actions: boolean) => ({
  id,
  label: id,
  defaultDuration: "30m",
  maxDuration: "2h",
  reasonRequired: true,
  ticketRequired: false,
  actions,
});
const model = (actionsOffered: boolean): RequestFormModel => ({
  resources: [resource("demo-db", actionsOffered), resource("demo-admin", false)],
  durations: ["15m", "30m", "1h", "2h"],
  defaultDuration: "30m",
  reasonRequired: true,
  ticketRequired: false,
  ticketHint: undefined,
  actionsOffered,
});

describe("Teams request form: Run one action", () => {
  it("offers a multi-line action field naming the resources that take actions, and a valid card", () => {
    const card = requestFormCard(model(true));
    expect(adaptiveCardProblems(card)).toEqual([]);
    const field = (card.body as Record<string, unknown>[]).find((b) => b.id === "action");
    expect(field).toMatchObject({ type: "Input.Text", isMultiline: true, label: expect.stringContaining("demo-db") });
    expect(String(field?.label)).not.toContain("demo-admin");
  });

  it("leaves the field out when no resource takes actions", () => {
    const card = requestFormCard(model(false));
    expect((card.body as Record<string, unknown>[]).some((b) => b.id === "action")).toBe(false);
  });

  it("keeps the typed action (line breaks and spaces) and shows its refusal under it", () => {
    const text = "UPDATE accounts SET balance = 0\n  WHERE id = 7 ";
    const data = parseCardData({ sesame: { kind: "submit_request" }, resource: "demo-db", reason: "x", action: text });
    expect(data).toEqual({ kind: "form", input: { resource: "demo-db", reason: "x", action: text } });
    const again = requestFormCard(
      model(true),
      { resource: "demo-db", action: text },
      { action: "The policy refuses DDL" },
    );
    const body = again.body as Record<string, unknown>[];
    expect(body.find((b) => b.id === "action")?.value).toBe(text);
    expect(body.find((b) => b.id === "action-error")?.text).toMatch(/refuses DDL/);
    expect(adaptiveCardProblems(again)).toEqual([]);
  });
});
