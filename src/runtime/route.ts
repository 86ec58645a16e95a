import type { CanonicalEvent } from '../model/events.js';
import type { z } from 'zod';
import type { RouteSettings } from './settings.js';

/**
 * Compiles a sink's route into one predicate: types, minimum severity, and field matches on
 * dotted paths (`host.pool`, `payload.outcome`, `enrichment.trust.status`), compared as text.
 */
export function compileRoute(route: z.output<typeof RouteSettings>): (event: CanonicalEvent) => boolean {
  const types = route.types === undefined ? undefined : new Set<string>(route.types);
  const matches = Object.entries(route.match).map(([path, value]) => ({ path: path.split('.'), value }));
  return (event) => {
    if (types !== undefined && !types.has(event.type)) return false;
    if (event.severity < route.minSeverity) return false;
    for (const { path, value } of matches) {
      let node: unknown = event;
      for (const key of path) node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
      if (node === undefined || String(node) !== value) return false;
    }
    return true;
  };
}
