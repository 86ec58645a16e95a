import { uuidv7 } from 'uuidv7';
import { IngestEvent, type CanonicalEvent } from '../model/events.js';
import { ValidationError, fieldErrors, type FieldError } from '../model/validation.js';
import type { BodyItem } from './body.js';

/**
 * Validates every item and settles it into a canonical event: `id` (UUIDv7) and `ingestTime`
 * assigned where absent. All or nothing: one invalid item refuses the whole batch, with every
 * error of every item, so a caller fixes them in one round and nothing is half-ingested.
 */
export function prepareEvents(items: readonly BodyItem[], now: number = Date.now()): CanonicalEvent[] {
  const events: CanonicalEvent[] = [];
  const errors: FieldError[] = [];
  const batch = items.length > 1;
  items.forEach((item, index) => {
    const result = IngestEvent.safeParse(item.value);
    if (!result.success) {
      for (const error of fieldErrors(result.error)) {
        errors.push({ ...error, ...(batch && { index }), ...(item.line !== undefined && { line: item.line }) });
      }
      return;
    }
    const event = result.data;
    events.push({ ...event, id: event.id ?? uuidv7(), ingestTime: event.ingestTime ?? now } as CanonicalEvent);
  });
  if (errors.length > 0) throw new ValidationError(batch ? `${errors.length} problem(s) in ${items.length} events; nothing was ingested` : 'invalid event', errors);
  return events;
}
