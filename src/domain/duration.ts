import { AppError } from "./errors.js";

const UNIT_SECONDS = { d: 86_400, h: 3_600, m: 60, s: 1 } as const;
/** Nothing Sesame does lasts longer; a bigger number is a typo (and would overflow dates and columns). */
export const MAX_DURATION_SECONDS = 10 * 366 * 86_400;
const DURATION_PATTERN = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Parses "90m", "1h30m", "2d", "45s" into seconds; returns undefined when the text is not a duration. */
export function tryParseDuration(text: string): number | undefined {
  const trimmed = text.trim().toLowerCase();
  const match = DURATION_PATTERN.exec(trimmed);
  if (!match || trimmed === "") return undefined;
  const [, d, h, m, s] = match;
  const seconds =
    Number(d ?? 0) * UNIT_SECONDS.d +
    Number(h ?? 0) * UNIT_SECONDS.h +
    Number(m ?? 0) * UNIT_SECONDS.m +
    Number(s ?? 0);
  return seconds > 0 && seconds <= MAX_DURATION_SECONDS ? seconds : undefined;
}

export function parseDuration(text: string): number {
  const seconds = tryParseDuration(text);
  if (seconds === undefined) {
    throw new AppError(
      "invalid_input",
      `"${text}" is not a duration. Use forms like 30m, 1h, 1h30m or 2d (at most 10 years).`,
    );
  }
  return seconds;
}

/** A duration given as seconds or as text ("1h30m"), in seconds. */
export function toSeconds(duration: number | string): number {
  return typeof duration === "string" ? parseDuration(duration) : duration;
}

/** Formats seconds as the shortest exact duration text ("1h30m"). */
export function formatDuration(totalSeconds: number): string {
  let rest = Math.max(0, Math.round(totalSeconds));
  if (rest === 0) return "0s";
  let text = "";
  for (const [unit, size] of Object.entries(UNIT_SECONDS)) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      text += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return text;
}

/**
 * A duration as people may have typed it: "4d3h (99h)" when it is a day or more of whole hours,
 * so a limit reads in the unit that was asked for as well as the shortest one.
 */
export function formatDurationWithHours(totalSeconds: number): string {
  const text = formatDuration(totalSeconds);
  const hours = totalSeconds / UNIT_SECONDS.h;
  return totalSeconds >= UNIT_SECONDS.d && Number.isInteger(hours) ? `${text} (${hours}h)` : text;
}
