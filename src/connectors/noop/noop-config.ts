import { z } from "zod";

const FailureSwitch = z.union([z.boolean(), z.number().int().min(0)]).default(false);

export const NoopConfigSchema = z.strictObject({
  failGrant: FailureSwitch.describe("true: every grant fails; a number: that many grants fail first"),
  failRevoke: FailureSwitch.describe("true: every revoke fails; a number: that many revokes fail first"),
  leaveAccessOnRevoke: FailureSwitch.describe(
    "revoke reports success but the access stays (post-revoke verification must catch it)",
  ),
});
export type NoopConfig = z.infer<typeof NoopConfigSchema>;

export const NoopTargetSchema = z.record(z.string(), z.unknown());
export type NoopTarget = z.infer<typeof NoopTargetSchema>;
