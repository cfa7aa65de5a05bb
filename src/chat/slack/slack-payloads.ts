import { z } from "zod";

/**
 * The parts of Slack's payloads Sesame reads, checked with zod (shapes from docs.slack.dev:
 * slash commands, block_actions, view_submission, app_home_opened). The signature is already
 * verified; these schemas make sure a handler never works on a shape it does not expect.
 */

export const SlackUserId = z.string().regex(/^[UW][A-Z0-9]{2,30}$/, "a Slack user id");
const SlackId = z.string().regex(/^[A-Z0-9]{2,40}$/);

export const SlashCommandSchema = z.object({
  command: z.string(),
  text: z.string().max(4_000).default(""),
  user_id: SlackUserId,
  team_id: SlackId,
  enterprise_id: SlackId.optional(),
  channel_id: z.string().optional(),
  trigger_id: z.string().min(1),
});
export type SlashCommand = z.infer<typeof SlashCommandSchema>;

export const BlockActionSchema = z.object({
  type: z.literal("block_actions"),
  user: z.object({ id: SlackUserId, team_id: SlackId.optional() }),
  team: z.object({ id: SlackId }).nullish(),
  enterprise: z.object({ id: SlackId }).nullish(),
  trigger_id: z.string().min(1),
  container: z
    .object({
      type: z.string(),
      channel_id: z.string().optional(),
      message_ts: z.string().optional(),
      view_id: z.string().optional(),
    })
    .optional(),
  channel: z.object({ id: z.string() }).nullish(),
  message: z.object({ ts: z.string() }).nullish(),
  actions: z.array(z.object({ action_id: z.string().max(255), value: z.string().max(2_000).optional() })).min(1),
});
export type BlockAction = z.infer<typeof BlockActionSchema>;

const InputValue = z.object({
  type: z.string(),
  value: z.string().nullish(),
  selected_option: z.object({ value: z.string() }).nullish(),
});

export const ViewSubmissionSchema = z.object({
  type: z.literal("view_submission"),
  user: z.object({ id: SlackUserId, team_id: SlackId.optional() }),
  team: z.object({ id: SlackId }).nullish(),
  enterprise: z.object({ id: SlackId }).nullish(),
  view: z.object({
    callback_id: z.string(),
    private_metadata: z.string().max(3_000).default(""),
    state: z.object({ values: z.record(z.string(), z.record(z.string(), InputValue)) }),
  }),
});
export type ViewSubmission = z.infer<typeof ViewSubmissionSchema>;

export const AppHomeOpenedSchema = z.object({
  event: z.object({ type: z.literal("app_home_opened"), user: SlackUserId, tab: z.string().optional() }),
});

/** The text of an input (plain text or a select) in a submitted view, by block id. */
export function inputValue(view: ViewSubmission["view"], blockId: string): string | undefined {
  const input = Object.values(view.state.values[blockId] ?? {})[0];
  return input?.selected_option?.value ?? input?.value ?? undefined;
}

/** Where a clicked card lives, carried through a modal in `private_metadata` (Slack returns it signed). */
const CardOriginSchema = z.object({
  value: z.string().max(2_000),
  channel: z.string().max(40).optional(),
  ts: z.string().max(40).optional(),
  home: z.boolean().optional(),
});
export type CardOrigin = z.infer<typeof CardOriginSchema>;

export function parseOrigin(metadata: string): CardOrigin | undefined {
  try {
    const parsed = CardOriginSchema.safeParse(JSON.parse(metadata));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
