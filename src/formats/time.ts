/**
 * Timestamps for the formats, without a `Date` and its formatting per event: a stream's
 * consecutive events nearly always fall in the same second, so each format keeps the text of
 * the last second it wrote and appends the milliseconds. Outputs are exactly those of the
 * `Date` methods they replace.
 */

/** `format(start of the second)` memoised for the last second asked, as a function of epoch ms. */
export function perSecond(format: (secondMs: number) => string): (ms: number) => string {
  let second = Number.NaN;
  let text = '';
  return (ms) => {
    const s = Math.floor(ms / 1000);
    if (s !== second) {
      text = format(s * 1000); // throws, as Date does, for a time out of range; nothing cached then
      second = s;
    }
    return text;
  };
}

/** Month abbreviations, as syslog (RFC 3164) and LEEF's `MMM` write them. */
export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

const MILLIS: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/** The time value a `Date` holds for `ms` (TimeClip: toward zero, no -0). */
export function timeValue(ms: number): number {
  return Math.trunc(ms) + 0;
}

/** `sss`: the milliseconds within the second of a time value. */
export function millisOf(t: number): string {
  return MILLIS[t - Math.floor(t / 1000) * 1000]!;
}

/** `2025-03-14T09:59:59`, extended years as `toISOString` writes them. */
const isoSecond = perSecond((ms) => new Date(ms).toISOString().slice(0, -5));

/** `new Date(ms).toISOString()`: `2025-03-14T09:59:59.871Z`. */
export function isoTime(ms: number): string {
  const t = timeValue(ms);
  return `${isoSecond(t)}.${millisOf(t)}Z`;
}
