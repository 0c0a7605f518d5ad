// How values are shown: dates in the viewer's own time zone, percentages with one decimal.

export function viewerTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

export function formatDate(iso: string | null | undefined, timeZone = viewerTimeZone()): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "—";
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone }).format(date);
}

export function formatDateTime(iso: string | null | undefined, timeZone = viewerTimeZone()): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "—";
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short", timeZone }).format(date);
}

export function formatPercent(value: number): string {
  return `${value.toFixed(1)}%`;
}

/** A date input's value (YYYY-MM-DD) as the end of that day in the viewer's zone, in ISO. */
export function endOfLocalDay(value: string): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return null;
  const [, y, m, d] = match.map(Number);
  const date = new Date(y, m - 1, d, 23, 59, 59);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export type Seats = { used: number; limit: number | null };

export function seatsText(seats: Seats | null | undefined): string {
  if (!seats) return "";
  return seats.limit === null
    ? `${seats.used} Group Analyst seats used (unlimited on this plan)`
    : `${seats.used} of ${seats.limit} Group Analyst seats used`;
}

/** SEAT_LIMIT_REACHED in words: what happened and what the admin can do. */
export function seatLimitExplanation(plan: string | null | undefined, seats: Seats | null | undefined): string {
  const limit = seats?.limit;
  const which = plan ? `The ${plan} plan` : "Your plan";
  const count = limit === null || limit === undefined ? "" : ` includes ${limit} Group Analyst seat${limit === 1 ? "" : "s"}, and all of them are in use`;
  return (
    `${which}${count || " has no Group Analyst seat free"}. ` +
    "To make this user a Group Analyst, first remove the role from someone who no longer needs it, " +
    "or upgrade the plan."
  );
}

export const STATUS_LABELS: Record<string, string> = {
  NOT_STARTED: "Not started",
  IN_PROGRESS: "In progress",
  COMPLETED: "Completed",
};

export const ROLE_LABELS: Record<string, string> = {
  SITE_OWNER: "Site owner",
  SITE_ADMIN: "Site admin",
  GROUP_ANALYST: "Group Analyst",
  STUDENT: "Student",
};
