import { describe, expect, it } from "vitest";
import { describeOnCallSetup } from "../../src/oncall/on-call-setup.js";
import { onCallEnv, SOURCES } from "./on-call-fixture.js";

/** Start-up checks of the on-call settings; pure, nothing is sent (no real PagerDuty or Opsgenie can run here anyway). */

describe("describeOnCallSetup", () => {
  it("finds nothing wrong when every key is set and every URL is https or local", () => {
    expect(describeOnCallSetup(SOURCES, onCallEnv("https://api.example.com"))).toEqual([]);
    expect(describeOnCallSetup(SOURCES, onCallEnv("http://127.0.0.1:8080"))).toEqual([]);
  });

  it("names the source and the variable to set for each missing key", () => {
    const env = onCallEnv("https://api.example.com", { PAGERDUTY_ROUTING_KEY: undefined, OPSGENIE_API_KEY: undefined });
    const sources = { "db-primary": SOURCES["db-primary"]!, platform: SOURCES.platform! };
    expect(describeOnCallSetup(sources, env)).toEqual([
      "oncall.db-primary (PagerDuty): set PAGERDUTY_ROUTING_KEY (an Events API v2 integration key) to page",
      "oncall.platform (Opsgenie): set OPSGENIE_API_KEY (an API integration key) to see who is on call and to page",
    ]);
  });

  it("flags plain http:// to another machine, where the key would travel in clear text", () => {
    const problems = describeOnCallSetup({ platform: SOURCES.platform! }, onCallEnv("http://opsgenie-proxy.internal"));
    expect(problems).toEqual([
      "oncall.platform (Opsgenie): OPSGENIE_API_URL must be https:// (it is plain http:// to opsgenie-proxy.internal)",
    ]);
  });

  it("has nothing to say about a policy without on-call sources", () => {
    expect(describeOnCallSetup({}, onCallEnv("https://api.example.com", { PAGERDUTY_API_TOKEN: undefined }))).toEqual(
      [],
    );
  });
});
