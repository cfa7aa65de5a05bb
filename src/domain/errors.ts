/**
 * The one error type of Sesame. `message` is for logs and operators; `userMessage` is safe to
 * show in chat or an API response and tells the user what to do next. Neither may hold a secret.
 */
export type AppErrorCode =
  | "invalid_input"
  | "not_found"
  | "unauthenticated"
  | "forbidden"
  | "conflict"
  | "already_decided"
  | "stale"
  | "policy_violation"
  | "connector_failed"
  | "config_invalid"
  | "internal"
  | "rate_limited";

export class AppError extends Error {
  readonly code: AppErrorCode;
  readonly userMessage: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: AppErrorCode,
    userMessage: string,
    options: { internal?: string; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(options.internal ?? userMessage, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.userMessage = userMessage;
    this.details = options.details;
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;
