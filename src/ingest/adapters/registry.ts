import type { IngestEventInput } from '../../model/events.js';
import { ValidationError } from '../../model/validation.js';
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from '../limits.js';
import { stableEventId } from '../../model/stable-id.js';
import { fromIntelSeclReport, fromIntelSeclReportCollection, type IntelSeclAdapterOptions } from './intel-secl-hvs.js';
import { fromKeylime, type KeylimeAdapterOptions } from './keylime.js';

export interface AdapterSettings {
  keylime?: KeylimeAdapterOptions;
  'intel-secl-hvs'?: IntelSeclAdapterOptions;
}
export type AdapterName = keyof AdapterSettings;
export const ADAPTER_NAMES: readonly AdapterName[] = ['keylime', 'intel-secl-hvs'];

const WHAT_HVS = 'invalid Intel SecL HVS report';

/**
 * Turns one upstream document into trust.change events, each with an id stable across resends
 * of the same document. HVS takes one report, an array of reports, or `{reports: [...]}`; a
 * document that holds no report is refused (a 202 for nothing would hide a broken sender).
 * `limits` bound the JSON text a document carries inside (Keylime's `msg`).
 */
export function adapt(name: AdapterName, document: unknown, settings: AdapterSettings = {}, limits: IngestLimits = DEFAULT_INGEST_LIMITS): IngestEventInput[] {
  if (name === 'keylime') return [withStableId(fromKeylime(document, settings.keylime, limits), document)];
  const options = settings['intel-secl-hvs'];
  if (Array.isArray(document)) {
    if (document.length === 0) throw new ValidationError(WHAT_HVS, [{ path: '(root)', message: 'the array holds no report' }]);
    return document.map((report, index) => {
      try {
        return withStableId(fromIntelSeclReport(report, options), report);
      } catch (error) {
        throw prefixPaths(error, `[${index}]`);
      }
    });
  }
  if (typeof document === 'object' && document !== null && 'reports' in document) {
    const reports = (document as { reports?: unknown }).reports;
    const events = fromIntelSeclReportCollection(document, options).map((event, index) => withStableId(event, Array.isArray(reports) ? reports[index] : event));
    if (events.length === 0) throw new ValidationError(WHAT_HVS, [{ path: 'reports', message: `holds no report (${reports === null ? 'null' : 'an empty array'})` }]);
    return events;
  }
  return [withStableId(fromIntelSeclReport(document, options), document)];
}

function withStableId(event: IngestEventInput, document: unknown): IngestEventInput {
  const time = typeof event.time === 'number' ? event.time : Date.parse(event.time);
  return { ...event, id: stableEventId(time, JSON.stringify(document)) };
}

/** Places a report's errors in the array it came in: `[2].trust_information.OVERALL`. */
function prefixPaths(error: unknown, prefix: string): unknown {
  if (!(error instanceof ValidationError)) return error;
  return error.withPaths((path) => (path === '(root)' ? prefix : `${prefix}.${path}`));
}
