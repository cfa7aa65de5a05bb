import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BOT_SCOPES } from "../../../src/chat/slack/slack-oauth.js";

/** manifest/slack.yaml is a valid Slack app manifest, and its scopes cover every Web API method Sesame calls. */

const root = join(import.meta.dirname, "../../..");
const schemaPath = join(root, "schemas/vendor/slack-app-manifest.schema.1.0.0.json");

// The scope each Web API method needs (docs.slack.dev/reference/methods). A method missing here fails the test.
const METHOD_SCOPES: Record<string, string[]> = {
  "chat.postMessage": ["chat:write"],
  "chat.postEphemeral": ["chat:write"],
  "chat.update": ["chat:write"],
  "users.info": ["users:read"],
  "users.lookupByEmail": ["users:read.email"],
  "views.open": [],
  "views.publish": [],
};

async function manifest(): Promise<Record<string, any>> {
  return parse(await readFile(join(root, "manifest/slack.yaml"), "utf8")) as Record<string, any>;
}

async function methodsCalled(): Promise<string[]> {
  const dir = join(root, "src/chat/slack");
  const methods = new Set<string>();
  for (const file of await readdir(dir)) {
    const source = await readFile(join(dir, file), "utf8");
    for (const match of source.matchAll(/client\.([a-zA-Z]+)\.([a-zA-Z]+)\(/g)) methods.add(`${match[1]}.${match[2]}`);
  }
  return [...methods].sort();
}

describe("manifest/slack.yaml", () => {
  it("validates against Slack's manifest schema (major version 1, draft-07)", async () => {
    const schema = JSON.parse(await readFile(schemaPath, "utf8")) as Record<string, unknown>;
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    // The schema carries two annotations Ajv does not know ("regex" next to "pattern", "_note") and leaves some types implicit; formats are not checked.
    const ajv = new Ajv({ allErrors: true, validateFormats: false, strictTypes: false });
    ajv.addKeyword("regex");
    ajv.addKeyword("_note");
    const validate = ajv.compile(schema);
    const valid = validate(await manifest());
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it("sends the command, interactivity and App Home events to /slack/events, with Socket Mode off", async () => {
    const m = await manifest();
    const events = "https://sesame.example.com/slack/events";
    expect(m.features.slash_commands).toEqual([
      expect.objectContaining({ command: "/request-access", url: events, usage_hint: expect.any(String) }),
    ]);
    expect(m.settings.interactivity).toEqual({ is_enabled: true, request_url: events });
    expect(m.settings.event_subscriptions).toEqual({ request_url: events, bot_events: ["app_home_opened"] });
    expect(m.features.app_home).toMatchObject({ home_tab_enabled: true, messages_tab_enabled: true });
    expect(m.settings.socket_mode_enabled).toBe(false);
    expect(m.oauth_config.redirect_urls).toEqual(["https://sesame.example.com/slack/oauth_redirect"]);
  });

  it("asks for the least scopes: exactly what the called Web API methods need, plus commands", async () => {
    const called = await methodsCalled();
    expect(called.filter((method) => !(method in METHOD_SCOPES))).toEqual([]);
    const needed = new Set(["commands", ...called.flatMap((method) => METHOD_SCOPES[method] ?? [])]);
    const granted = (await manifest()).oauth_config.scopes.bot as string[];
    expect([...granted].sort()).toEqual([...needed].sort());
    expect([...BOT_SCOPES].sort()).toEqual([...granted].sort());
  });
});
