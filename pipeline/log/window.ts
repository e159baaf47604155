/**
 * Time windows as people write them: a duration (`90s`, `15m`, `24h`, `7d`) or an instant (ISO
 * 8601, or a duration ago). Pure: `now` comes in.
 */
import { UsageError } from '../errors.ts';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `24h` → milliseconds; a UsageError naming `what` for anything else. */
export function parseDuration(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$/.exec(text);
  if (m === null || !(Number(m[1]) > 0)) {
    throw new UsageError(
      `${what} must be a duration such as 90s, 15m, 24h or 7d, got ${JSON.stringify(text)}`,
    );
  }
  return Math.round(Number(m[1]) * (UNITS[m[2] as string] as number));
}

/** An instant: ISO 8601 (`2026-12-01T10:00:00Z`, `2026-12-01`), or a duration ago (`24h`). */
export function parseInstant(text: string, what: string, now: number): number {
  if (/^\s*\d+(?:\.\d+)?\s*[smhd]\s*$/.test(text)) return now - parseDuration(text, what);
  const t = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim()) || Number.isNaN(t)) {
    throw new UsageError(
      `${what} must be an ISO 8601 time (2026-12-01T10:00:00Z) or a duration ago (24h), got ${JSON.stringify(text)}`,
    );
  }
  return t;
}
