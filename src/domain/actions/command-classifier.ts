import type { ActionClassification } from "./action-kind.js";

/**
 * Classifies a command forwarded to the user's runner through the `webhook` connector. Sesame
 * cannot know what a runner does with a command, so every command is one class and the policy's
 * people decide; only an empty text is refused.
 */
export function classifyCommand(text: string): ActionClassification {
  if (text.trim() === "") return { class: "refused", why: "there is no command to run" };
  return { class: "command", why: "Sesame cannot read a runner's command; people decide" };
}
