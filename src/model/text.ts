/** Small helpers for building events: what every layer that makes one needs. */

export const TEXT_MAX = 4096;

/** Upstream texts have no length limit; the event contract has. Cut, and say so. */
export function clampText(text: string, max = TEXT_MAX): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Drops the keys whose value is undefined, so the event carries only what is known. */
export function defined<T extends Record<string, unknown>>(object: T): T {
  for (const key of Object.keys(object)) if (object[key] === undefined) delete object[key];
  return object;
}
