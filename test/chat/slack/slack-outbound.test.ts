import { type WebClient, WebClientEvent } from "@slack/web-api";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Card } from "../../../src/chat/core/card-model.js";
import type { ChatStore } from "../../../src/chat/core/chat-store.js";
import { createSlackOutbound, type SlackOutbound } from "../../../src/chat/slack/slack-outbound.js";
import { type SlackWorkspaces, singleWorkspace } from "../../../src/chat/slack/slack-workspaces.js";
import { type SlackStandIn, startSlackStandIn } from "./slack-web-api-stand-in.js";

/** Outbound cards: paced per channel, 429s waited out (Retry-After), unreachable people skipped, other failures thrown for the queue to retry. */

const card: Card = {
  title: "Your access to demo has ended",
  facts: [{ label: "Grant", value: "3f2a9c1e" }],
  notes: [],
  actions: [],
  actionableBy: [],
};
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

function memoryStore(emails: Record<string, string>): ChatStore & { links: Map<string, string> } {
  const links = new Map<string, string>();
  const refuse = async (): Promise<never> => {
    throw new Error("not used by outbound");
  };
  return {
    links,
    identityForAccount: async (_platform, externalId) => links.get(externalId) ?? null,
    accountForIdentity: async (_platform, identityId) => [...links].find(([, id]) => id === identityId)?.[0] ?? null,
    identityByEmail: async (email) => Object.entries(emails).find(([, e]) => e === email)?.[0] ?? null,
    emailOf: async (identityId) => emails[identityId] ?? null,
    linkAccount: async (_platform, externalId, identityId) => void links.set(externalId, identityId),
    saveMessage: refuse,
    findMessage: refuse,
    messagesFor: refuse,
    saveGrantMessage: refuse,
    grantMessagesFor: refuse,
    claimDelivery: refuse,
    releaseDelivery: refuse,
    saveConversation: async () => undefined,
    conversation: async () => null,
  };
}

let slack: SlackStandIn;
let workspaces: SlackWorkspaces;
let outbound: SlackOutbound;
let store: ReturnType<typeof memoryStore>;

beforeAll(async () => {
  slack = await startSlackStandIn();
  slack.users.set("U0ALICE", "alice@example.com");
  store = memoryStore({ alice: "alice@example.com", nobody: "nobody@example.com" });
  workspaces = singleWorkspace("xoxb-test-token", {
    slackApiUrl: slack.apiUrl,
    retryConfig: { retries: 2, minTimeout: 100, maxTimeout: 200 },
  });
  // The real pacing (about one message per second per channel), as the adapter sets it.
  outbound = createSlackOutbound({ workspaces, store, logger: silent, minIntervalMs: 1_000 });
});

afterAll(async () => {
  await outbound?.stop();
  await slack?.close();
});

const postsTo = (channel: string) =>
  slack.callsTo("chat.postMessage").filter((call) => call.params.channel === channel);

describe("Slack outbound messages", () => {
  it("spaces messages to one channel a second apart, without holding back other channels", async () => {
    // Fake timers drive Bottleneck's pacing, so the spacing is exact instead of measured on a busy
    // machine. The client records when (in fake time) each message went out.
    vi.useFakeTimers({ now: new Date("2026-03-02T08:00:00Z") });
    const sent: { channel: string; at: number }[] = [];
    const client = {
      chat: {
        postMessage: async ({ channel }: { channel: string }) => {
          sent.push({ channel, at: Date.now() });
          return { ok: true, channel, ts: `${sent.length}.000100` };
        },
      },
    } as unknown as WebClient;
    const paced = createSlackOutbound({
      workspaces: { multi: false, client: async () => client, candidates: async () => [undefined] },
      store,
      logger: silent,
      minIntervalMs: 1_000,
    });
    try {
      const posts = Promise.all([
        paced.post({ channel: "C0BURST" }, card),
        paced.post({ channel: "C0BURST" }, card),
        paced.post({ channel: "C0OTHER" }, card),
      ]);
      // The first message to each channel goes out at once, together; the second to C0BURST waits.
      await vi.advanceTimersByTimeAsync(100);
      expect(sent.map((post) => post.channel)).toEqual(["C0BURST", "C0OTHER"]);
      expect(sent[1]!.at).toBe(sent[0]!.at);
      await vi.advanceTimersByTimeAsync(800);
      expect(sent).toHaveLength(2);
      await vi.advanceTimersByTimeAsync(200);
      expect(sent.map((post) => post.channel)).toEqual(["C0BURST", "C0OTHER", "C0BURST"]);
      // A second after the first (Bottleneck counts from when it let the first through, a tick or two earlier).
      expect(sent[2]!.at - sent[0]!.at).toBeGreaterThanOrEqual(995);
      expect(sent[2]!.at - sent[0]!.at).toBeLessThanOrEqual(1_000);
      expect(await posts).toHaveLength(3);
    } finally {
      vi.useRealTimers();
      await paced.stop();
    }
  });

  it("waits out a 429 for its Retry-After and still delivers the message", async () => {
    // The Web API client does the waiting; it reports each rate limit it waits out, in seconds.
    const waited: number[] = [];
    const client = (await workspaces.client(undefined))!;
    const record = (seconds: number) => void waited.push(seconds);
    client.on(WebClientEvent.RATE_LIMITED, record);
    try {
      slack.failNext("chat.postMessage", {
        status: 429,
        headers: { "retry-after": "1" },
        body: { ok: false, error: "ratelimited" },
      });
      const address = await outbound.post({ channel: "C0LIMITED" }, card);
      expect(address).toMatchObject({ channel: "C0LIMITED", ts: expect.any(String) });
      const [limited, delivered] = postsTo("C0LIMITED");
      expect(limited!.result).toEqual({ ok: false, error: "ratelimited" });
      expect(delivered!.result.ok).toBe(true);
      expect(waited).toEqual([1]);
    } finally {
      client.off(WebClientEvent.RATE_LIMITED, record);
    }
  });

  it("finds a person by their policy email, remembers the link, and stores the DM's address", async () => {
    const address = await outbound.post({ identityId: "alice" }, card);
    expect(address).toEqual({ channel: "D0ALICE", ts: expect.any(String), user: "U0ALICE" });
    expect(store.links.get("U0ALICE")).toBe("alice");
    await outbound.update(address!, { ...card, title: "updated" });
    expect(slack.callsTo("chat.update").at(-1)!.params).toMatchObject({
      channel: "D0ALICE",
      ts: address!.ts,
      text: "updated",
    });
  });

  it("returns null for someone not in the workspace or a channel the bot cannot reach", async () => {
    expect(await outbound.post({ identityId: "nobody" }, card)).toBeNull();
    slack.failNext("chat.postMessage", { status: 200, body: { ok: false, error: "channel_not_found" } });
    expect(await outbound.post({ channel: "C0GONE" }, card)).toBeNull();
  });

  it("throws any other failure, so the chat queue retries the job", async () => {
    slack.failNext("chat.postMessage", { status: 200, body: { ok: false, error: "fatal_error" } });
    await expect(outbound.post({ channel: "C0BROKEN" }, card)).rejects.toThrow(/fatal_error/);
    slack.failNext("chat.update", { status: 200, body: { ok: false, error: "internal_error" } });
    await expect(outbound.update({ channel: "C0BROKEN", ts: "1.2" }, card)).rejects.toThrow(/internal_error/);
  });
});
