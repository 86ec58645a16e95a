import { uuidv7 } from 'uuidv7';
import { IngestEvent, type CanonicalEvent } from '../model/events.js';
import { FieldErrorList, ValidationError, fieldErrors } from '../model/validation.js';
import type { BodyItem } from './body.js';

/**
 * Validates every item and settles it into a canonical event: `id` (UUIDv7) and `ingestTime`
 * assigned where absent. All or nothing: one invalid item refuses the whole batch, with the
 * errors of every item (the first MAX_FIELD_ERRORS of them; checking stops there), so a caller
 * fixes them in one round and nothing is half-ingested.
 */
export function prepareEvents(items: readonly BodyItem[], now: number = Date.now()): CanonicalEvent[] {
  if (items.length === 0) throw new ValidationError('invalid request', [{ path: '(body)', message: 'holds no event' }]);
  const events: CanonicalEvent[] = [];
  const errors = new FieldErrorList();
  const batch = items.length > 1;
  let index = 0;
  for (; index < items.length && !errors.full; index++) {
    const item = items[index]!;
    const result = IngestEvent.safeParse(item.value);
    if (!result.success) {
      for (const error of fieldErrors(result.error)) {
        errors.add({ ...error, ...(batch && { index }), ...(item.line !== undefined && { line: item.line }) });
      }
      continue;
    }
    const event = result.data;
    events.push({ ...event, id: event.id ?? uuidv7(), ingestTime: event.ingestTime ?? now } as CanonicalEvent);
  }
  const notChecked = index < items.length ? uncheckedItems(items, index) : undefined;
  errors.throwIfAny((count) => (batch ? `${count}${notChecked === undefined ? '' : '+'} problem(s) in ${items.length} events; nothing was ingested` : 'invalid event'), notChecked);
  return events;
}

function uncheckedItems(items: readonly BodyItem[], from: number): string {
  const first = items[from]!.line;
  const last = items[items.length - 1]!.line;
  return first !== undefined && last !== undefined
    ? `checking stopped there: lines ${first}-${last} were not checked`
    : `checking stopped there: events [${from}]-[${items.length - 1}] were not checked`;
}
