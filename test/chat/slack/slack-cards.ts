import type { RecordedCall } from "./slack-web-api-stand-in.js";

/** Reading what Sesame sent to the Web API stand-in: buttons, text and where a message landed. */

type Blocks = { type: string; elements?: { action_id?: string; value?: string }[] }[];

export function buttons(call: RecordedCall): { action_id: string; value: string }[] {
  const blocks = (call.params.blocks ?? call.params.view?.blocks ?? []) as Blocks;
  return blocks
    .flatMap((block) => (block.type === "actions" ? (block.elements ?? []) : []))
    .map((e) => ({ action_id: e.action_id ?? "", value: e.value ?? "" }));
}

export function buttonValue(call: RecordedCall, actionId: string): string {
  const found = buttons(call).find((b) => b.action_id === actionId);
  if (!found) throw new Error(`no ${actionId} button in ${call.method}`);
  return found.value;
}

/** Everything a message says, blocks included, as one string to search. */
export const allText = (call: RecordedCall): string => JSON.stringify(call.params);

export const landedAt = (call: RecordedCall): { channel: string; ts: string } => ({
  channel: String(call.result.channel),
  ts: String(call.result.ts),
});
