import { z } from "zod";

/**
 * The activity shapes Sesame reads, parsed at the boundary. Only the fields used are declared;
 * the rest of an activity passes through untouched (`loose`), since Teams adds fields over time.
 */

const AccountSchema = z.looseObject({
  id: z.string().min(1).max(500),
  name: z.string().max(500).optional(),
  aadObjectId: z.string().min(1).max(100).optional(),
});

export const ActivitySchema = z.looseObject({
  type: z.string().min(1),
  id: z.string().max(500).optional(),
  name: z.string().max(200).optional(),
  text: z.string().max(20_000).optional(),
  value: z.unknown().optional(),
  replyToId: z.string().max(500).optional(),
  serviceUrl: z.url({ protocol: /^https?$/ }),
  channelId: z.string().min(1).max(100),
  locale: z.string().max(50).optional(),
  action: z.string().max(50).optional(),
  from: AccountSchema,
  recipient: AccountSchema,
  conversation: z.looseObject({
    id: z.string().min(1).max(1000),
    conversationType: z.string().max(50).optional(),
    tenantId: z.string().max(100).optional(),
    isGroup: z.boolean().optional(),
  }),
  channelData: z
    .looseObject({
      tenant: z.looseObject({ id: z.string().max(100) }).optional(),
      team: z.looseObject({ id: z.string().max(500) }).optional(),
      channel: z.looseObject({ id: z.string().max(500) }).optional(),
      eventType: z.string().max(100).optional(),
    })
    .optional(),
  membersAdded: z.array(AccountSchema).max(1000).optional(),
});
export type TeamsActivity = z.infer<typeof ActivitySchema>;

/** `invoke` named `adaptiveCard/action`: an Action.Execute click or an automatic refresh. */
export const CardInvokeSchema = z.looseObject({
  action: z.looseObject({
    type: z.literal("Action.Execute"),
    verb: z.string().max(50),
    data: z.unknown().optional(),
  }),
  trigger: z.enum(["manual", "automatic"]).optional(),
});

/** The tenant an activity comes from (both places Teams puts it). */
export const tenantOf = (activity: TeamsActivity): string | undefined =>
  activity.channelData?.tenant?.id ?? activity.conversation.tenantId;

/** A message in a one-to-one chat with the bot (where requests are made). */
export const isPersonal = (activity: TeamsActivity): boolean =>
  (activity.conversation.conversationType ?? "personal") === "personal" && !activity.conversation.isGroup;

/** The text a person typed, without the bot's `<at>Sesame</at>` mention or stray markup. */
export function commandText(activity: TeamsActivity): string {
  return (activity.text ?? "")
    .replace(/<at>[^<]*<\/at>/gi, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/&nbsp;/g, " ")
    .trim();
}
