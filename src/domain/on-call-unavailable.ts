/** An on-call provider could not answer. Never a reason to auto-approve: callers fall back to people. */
export class OnCallUnavailableError extends Error {
  constructor(
    readonly sourceName: string,
    readonly provider: string,
    why: string,
    readonly action: "look-up" | "page" | "resolve" = "look-up",
  ) {
    const what =
      action === "look-up" ? "say who is on call for" : action === "page" ? "page on-call for" : "resolve the page for";
    super(`${provider} could not ${what} "${sourceName}": ${why}`);
    this.name = "OnCallUnavailableError";
  }
}
