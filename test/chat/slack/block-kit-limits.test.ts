import { describe, expect, it } from "vitest";
import type { Card } from "../../../src/chat/core/card-model.js";
import type { RequestFormModel } from "../../../src/chat/core/request-form.js";
import { escapeMrkdwn, LIMITS, mrkdwn } from "../../../src/chat/slack/block-kit-limits.js";
import { cardBlocks, cardsBlocks } from "../../../src/chat/slack/card-blocks.js";
import { denyModal, extendModal, requestModal } from "../../../src/chat/slack/slack-modals.js";

/** Absurd input never produces a message Slack would reject: every limit the Block Kit reference names holds. */

const id = "0b6f2a9e-1d4b-4c8e-9a1f-2b6d5e8c0a13";
const approvers = Array.from({ length: 200 }, (_, i) => `Approver Number ${i} (approver${i})`).join(", ");

const absurd: Card = {
  title: "x".repeat(1_000),
  status: { tone: "warning", text: "w".repeat(5_000) },
  facts: [
    { label: "Reason", value: "<!channel> & <https://evil.example|click> ".repeat(400) },
    { label: "Approvers", value: approvers },
    ...Array.from({ length: 600 }, (_, i) => ({ label: `Fact ${i}`, value: "v".repeat(3_000) })),
  ],
  notes: Array.from({ length: 100 }, () => "n".repeat(4_000)),
  actions: [
    { kind: "approve", requestId: id, version: 3 },
    { kind: "deny", requestId: id, version: 3 },
    ...Array.from({ length: 40 }, () => ({ kind: "cancel" as const, requestId: id })),
  ],
  actionableBy: [],
};

type Json = Record<string, any>;

/** Every text object, field, button and id in a block tree, checked against Slack's limits. */
function checkLimits(blocks: Json[]): void {
  for (const block of blocks) {
    if (block.block_id) expect(block.block_id.length).toBeLessThanOrEqual(LIMITS.id);
    if (block.type === "header") expect(block.text.text.length).toBeLessThanOrEqual(LIMITS.headerText);
    if (block.text) expect(block.text.text.length).toBeLessThanOrEqual(LIMITS.text);
    if (block.fields) {
      expect(block.fields.length).toBeLessThanOrEqual(LIMITS.fieldsPerSection);
      for (const field of block.fields) expect(field.text.length).toBeLessThanOrEqual(LIMITS.fieldText);
    }
    if (block.type === "actions") {
      expect(block.elements.length).toBeLessThanOrEqual(LIMITS.actionsElements);
      for (const element of block.elements) {
        expect(element.value.length).toBeLessThanOrEqual(LIMITS.buttonValue);
        expect(element.action_id.length).toBeLessThanOrEqual(LIMITS.id);
        expect(element.text.text.length).toBeLessThanOrEqual(LIMITS.buttonText);
      }
    }
    if (block.element?.options) {
      expect(block.element.options.length).toBeLessThanOrEqual(LIMITS.options);
      for (const option of block.element.options) {
        expect(option.text.text.length).toBeLessThanOrEqual(LIMITS.optionText);
        expect(option.value.length).toBeLessThanOrEqual(LIMITS.optionValue);
      }
    }
  }
}

describe("Block Kit limits", () => {
  it("fits an absurd card in one message, truncating visibly and keeping its buttons", () => {
    const blocks = cardBlocks(absurd) as Json[];
    expect(blocks.length).toBeLessThanOrEqual(LIMITS.messageBlocks);
    checkLimits(blocks);
    expect(blocks.at(-1)!.type).toBe("actions");
    expect(
      blocks
        .at(-1)!
        .elements.map((e: Json) => e.action_id)
        .slice(0, 2),
    ).toEqual(["sesame_approve", "sesame_deny"]);
    const text = JSON.stringify(blocks);
    expect(text).toContain("… (truncated)");
    expect(text).toMatch(/more part\(s\) of this card not shown/);
    expect(text).not.toContain("<!channel>");
    expect(text).toContain("&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;");
  });

  it("fits 200 cards in a message (50 blocks) and in App Home (100 blocks), counting what is left out", () => {
    const many = Array.from({ length: 200 }, () => absurd);
    for (const max of [LIMITS.messageBlocks, LIMITS.viewBlocks]) {
      const blocks = cardsBlocks(many, max) as Json[];
      expect(blocks.length).toBeLessThanOrEqual(max);
      checkLimits(blocks);
      expect(JSON.stringify(blocks.at(-1))).toMatch(/more item\(s\) not shown/);
    }
  });

  it("keeps modals within their limits: 100 options, short labels, bounded private_metadata", () => {
    const model: RequestFormModel = {
      resources: Array.from({ length: 300 }, (_, i) => ({
        id: `resource-${i}-${"r".repeat(200)}`,
        label: `Resource ${i}: ${"d".repeat(500)}`,
        defaultDuration: "1h",
        maxDuration: "4h",
        reasonRequired: i % 2 === 0,
        ticketRequired: false,
      })),
      durations: ["15m", "30m", "1h", "2h", "4h"],
      defaultDuration: "1h",
      reasonRequired: true,
      ticketRequired: false,
      ticketHint: "h".repeat(5_000),
    };
    const form = requestModal(model) as Json;
    expect(form.blocks.length).toBeLessThanOrEqual(LIMITS.viewBlocks);
    expect(form.title.text.length).toBeLessThanOrEqual(LIMITS.viewTitle);
    checkLimits(form.blocks);
    for (const block of form.blocks) if (block.hint) expect(block.hint.text.length).toBeLessThanOrEqual(LIMITS.hint);

    const origin = {
      value: JSON.stringify({ kind: "deny", requestId: id, version: 3 }),
      channel: "D0123456789",
      ts: "1700000000.000100",
    };
    for (const modal of [
      denyModal(origin, "s".repeat(10_000)),
      extendModal(origin, "s".repeat(10_000), ["15m", "30m"]),
    ] as Json[]) {
      expect(modal.private_metadata.length).toBeLessThanOrEqual(LIMITS.privateMetadata);
      expect(modal.callback_id.length).toBeLessThanOrEqual(LIMITS.id);
      checkLimits(modal.blocks);
    }
  });

  it("escapes mrkdwn control characters without cutting an escape in half", () => {
    expect(escapeMrkdwn("a < b & c > d")).toBe("a &lt; b &amp; c &gt; d");
    const cut = mrkdwn("&".repeat(100), 50);
    expect(cut.length).toBeLessThanOrEqual(50);
    expect(cut).toMatch(/^(&amp;)+… \(truncated\)$/);
  });
});
