/** An on-call provider could not answer. Never a reason to auto-approve: callers fall back to people. */
export class OnCallUnavailableError extends Error {
  constructor(
    readonly sourceName: string,
    readonly provider: string,
    why: string,
  ) {
    super(`${provider} could not say who is on call for "${sourceName}": ${why}`);
    this.name = "OnCallUnavailableError";
  }
}
