import { describe, expect, it } from "vitest";
import { approvalCard } from "../../../src/chat/core/request-cards.js";
import { escapeMarkdown, MAX_REFRESH_USERS, renderAdaptiveCard } from "../../../src/chat/teams/adaptive-card.js";
import { parseCardData } from "../../../src/chat/teams/card-data.js";
import { cardGallery, galleryBook, sampleRequest } from "./card-gallery.js";
import { adaptiveCardProblems } from "./schemas.js";

type Json = Record<string, any>;

describe("Teams cards", () => {
  it.each(cardGallery().map((c) => [c.name, c.json] as const))(
    "%s validates against the Adaptive Card 1.5 schema",
    (_name, json) => {
      expect(adaptiveCardProblems(json)).toEqual([]);
      expect(json.version).toBe("1.5");
    },
  );

  it("a card with a typo is refused by the schema check (the check is real)", () => {
    expect(
      adaptiveCardProblems({ type: "AdaptiveCard", version: "1.5", body: [{ type: "TextBlock", txt: "x" }] }),
    ).not.toEqual([]);
  });

  it("approval buttons are Action.Execute approve/deny carrying request id and version only, with Action.Submit fallbacks", () => {
    const json = cardGallery().find((c) => c.name === "approval-pending")!.json as Json;
    const approve = json.actions.find((a: Json) => a.verb === "approve");
    expect(approve).toMatchObject({
      type: "Action.Execute",
      data: { sesame: { kind: "approve", requestId: sampleRequest().id, version: 1 } },
    });
    expect(approve.fallback).toMatchObject({ type: "Action.Submit", data: approve.data });
    const deny = json.actions.find((a: Json) => a.type === "Action.ShowCard").card;
    expect(deny.body[0]).toMatchObject({ type: "Input.Text", id: "reason" });
    expect(deny.actions[0]).toMatchObject({
      type: "Action.Execute",
      verb: "deny",
      fallback: { type: "Action.Submit" },
    });
    expect(json.refresh).toEqual({
      action: {
        type: "Action.Execute",
        title: "Refresh",
        verb: "refresh",
        data: { sesame: { kind: "refresh", requestId: sampleRequest().id } },
      },
      userIds: ["29:bob", "29:carol"],
    });
    expect(JSON.stringify(approve.data)).not.toMatch(/alice|bob|carol/);
  });

  it("the read-only copy has no buttons but still refreshes to the approvers' live view", () => {
    const json = cardGallery().find((c) => c.name === "approval-pending-read-only")!.json as Json;
    expect(json.actions).toBeUndefined();
    expect(json.refresh.userIds).toEqual(["29:bob", "29:carol"]);
  });

  it("a decided request's card has no buttons and no refresh", () => {
    const json = cardGallery().find((c) => c.name === "approval-approved")!.json as Json;
    expect(json.actions).toBeUndefined();
    expect(json.refresh).toBeUndefined();
  });

  it("refresh.userIds holds at most 60 users", () => {
    const ids = Array.from({ length: 75 }, (_, i) => `29:user-${i}`);
    const json = renderAdaptiveCard(approvalCard(galleryBook(), sampleRequest()), {
      actionable: false,
      refreshFor: ids,
    }) as Json;
    expect(json.refresh.userIds).toHaveLength(MAX_REFRESH_USERS);
  });

  it("text typed by a requester cannot add links, mentions or formatting", () => {
    const card = approvalCard(
      galleryBook(),
      sampleRequest({ reason: "[click](https://evil.example) <at>Bob</at> **now**" }),
    );
    const json = renderAdaptiveCard(card, { actionable: true, refreshFor: [] }) as Json;
    const reason = json.body
      .find((b: Json) => b.type === "FactSet")
      .facts.find((f: Json) => f.title === "Reason").value;
    expect(reason).toBe("\\[click\\](https://evil.example) \\<at\\>Bob\\</at\\> \\*\\*now\\*\\*");
    expect(escapeMarkdown("a_b")).toBe("a\\_b");
    expect(adaptiveCardProblems(json)).toEqual([]);
  });

  it("the request form offers the resources, durations, reason and ticket", () => {
    const json = cardGallery().find((c) => c.name === "request-form")!.json as Json;
    const ids = json.body.filter((b: Json) => b.id).map((b: Json) => b.id);
    expect(ids).toEqual(["resource", "duration", "reason", "ticket"]);
    expect(json.body[1].choices.map((c: Json) => c.value)).toEqual(["prod-db-readonly", "staging-db"]);
    expect(json.body[2].choices.map((c: Json) => c.value)).toContain("4h");
    expect(json.actions[0]).toMatchObject({ type: "Action.Execute", verb: "submit_request" });
  });

  describe("card data", () => {
    const id = sampleRequest().id;
    it("reads Sesame's own data and the card's inputs", () => {
      expect(parseCardData({ sesame: { kind: "deny", requestId: id, version: 3 }, reason: "no" })).toEqual({
        kind: "button",
        value: { kind: "deny", requestId: id, version: 3 },
        reason: "no",
      });
      expect(parseCardData({ sesame: { kind: "refresh", requestId: id } })).toEqual({ kind: "refresh", requestId: id });
      expect(parseCardData({ sesame: { kind: "submit_request" }, resource: "x", duration: "1h" })).toEqual({
        kind: "form",
        input: { resource: "x", duration: "1h" },
      });
    });
    it.each([
      [
        "a forged approver next to the button value",
        { sesame: { kind: "approve", requestId: id, version: 1 }, approverId: "bob" },
      ],
      [
        "a forged user inside the button value",
        { sesame: { kind: "approve", requestId: id, version: 1, userId: "bob" } },
      ],
      ["a refresh that tries to carry a decision", { sesame: { kind: "refresh", requestId: id, decision: "approve" } }],
      ["a request id that is not one", { sesame: { kind: "approve", requestId: "../1", version: 1 } }],
      ["something else entirely", "approve"],
    ])("refuses %s", (_what, data) => {
      expect(parseCardData(data)).toBeUndefined();
    });
  });
});
