import type { TimeWindow } from "./policy-schema.js";

/**
 * Time windows for auto-approval ("weekdays 09:00-18:00 Europe/Paris"), evaluated with Intl so
 * daylight-saving changes follow the zone's rules. A window whose end is before its start crosses
 * midnight and belongs to the day it starts on: fri 22:00-06:00 includes Saturday 02:00.
 */

type Weekday = TimeWindow["days"][number];

const WEEKDAYS: readonly Weekday[] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** The weekday and minutes since midnight at `now` on the wall clock of `timeZone`. */
export function localClock(now: Date, timeZone: string): { day: Weekday; minutes: number } {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(now);
  const part = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? "";
  const day = WEEKDAYS.find((weekday) => part("weekday").toLowerCase().startsWith(weekday)) ?? "sun";
  // Some ICU versions print midnight as "24" even with h23; modulo keeps the arithmetic honest.
  return { day, minutes: (Number(part("hour")) % 24) * 60 + Number(part("minute")) };
}

const clockMinutes = (clock: string): number => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));

export function isWithinTimeWindow(window: TimeWindow, now: Date): boolean {
  const { day, minutes } = localClock(now, window.timezone);
  const start = clockMinutes(window.start);
  const end = clockMinutes(window.end);
  if (start < end) return window.days.includes(day) && minutes >= start && minutes < end;
  const previousDay = WEEKDAYS[(WEEKDAYS.indexOf(day) + 6) % 7] ?? day;
  return (window.days.includes(day) && minutes >= start) || (window.days.includes(previousDay) && minutes < end);
}

export function describeTimeWindow(window: TimeWindow): string {
  return `${window.days.join(",")} ${window.start}-${window.end} ${window.timezone}`;
}

export function describeLocalClock(now: Date, timeZone: string): string {
  const { day, minutes } = localClock(now, timeZone);
  const pad = (value: number): string => String(value).padStart(2, "0");
  return `${day} ${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}
