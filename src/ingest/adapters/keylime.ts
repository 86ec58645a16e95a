/**
 * Keylime revocation notifications → trustwire `trust.change` events.
 *
 * The format, as Keylime's verifier builds and sends it (github.com/keylime/keylime):
 * - `keylime/cloud_verifier_common.py` `prepare_error()`: the body is `{msg, signature}`, where
 *   `msg` is JSON text of `{type: "revocation", ip, agent_id, port, tpm_policy, meta_data,
 *   event_time: time.asctime(), event_id, severity_label, context}`; `signature` is the RSA
 *   signature of `msg` with the tenant's revocation key, or empty (`""`, `"none"` in older
 *   releases) when the agent has none.
 * - `keylime/cloud_verifier_tornado.py` `notify_error()`: sent only for an invalid quote, with the
 *   highest-severity event of the failed attestation; `revocation_notifier.notify_webhook()` POSTs
 *   that body as JSON to `[revocations] webhook_url`.
 * - `keylime/failure.py`: `event_id` is `component[.sub_component...].event`, the component one of
 *   `qoute_validation` (sic), `pcr_validation`, `measured_boot`, `ima`, `internal`,
 *   `tee_attestation`, `default`; `context` is JSON text of a dict, a plain message becoming
 *   `{"message": ...}`; `severity_label` is a name from the verifier's `severity_labels`
 *   (default `info` … `emergency`, lowest first).
 * - `keylime/tpm/tpm_main.py` `check_pcrs()` and `keylime/ima/ima.py`: the contexts seen in
 *   practice, e.g. `pcr_validation.invalid_pcr_0` with `{"context": "PCR value is not in
 *   allowlist", "got": "<hex>", "expected": ["<hex>", ...]}`, `measured_boot.invalid_pcr_4`,
 *   `ima.validation.ima-ng.not_in_allowlist` with `{"message": "File not found in allowlist: /path"}`,
 *   `ima.validation.ima-ng.runtime_policy_hash` with `got` / `expected`, `ima.pcr_mismatch`.
 *
 * trustwire does not verify Keylime's signature: the webhook is TLS-protected and the sender
 * authenticates with trustwire's bearer token. The signature is not carried into the event
 * either — an unverified signature invites misplaced trust, and at 344+ characters it does not
 * fit `reportId`, which Keylime has no equivalent of.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import type { IngestEventInput } from '../../model/events.js';
import type { AttestationFault, FlavorKind, FlavorResult } from '../../model/payloads.js';
import { Name } from '../../model/primitives.js';
import { quoted } from '../../model/validation.js';
import { parseJson } from '../body.js';
import { DEFAULT_INGEST_LIMITS, withinLimits, type IngestLimits } from '../limits.js';
import { AdapterOptions, ATTESTATION_SYSTEM, fieldError, parseOrThrow, renderValue } from './common.js';
import { clampText, defined } from '../../model/text.js';

const WHAT = 'invalid Keylime revocation notification';

/** Keylime's default `severity_labels`, lowest first (keylime/failure.py). */
export const KEYLIME_DEFAULT_SEVERITY_LABELS = ['info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'] as const;

/** The PCR Keylime extends IMA into (`IMA_PCR` in keylime/config.py). */
const IMA_PCR = 10;

export const KeylimeAdapterOptions = AdapterOptions.extend({
  /**
   * The verifier's `severity_labels`, lowest first, when they differ from Keylime's default.
   * They are spread evenly over trustwire severities 2-10.
   */
  severityLabels: z.array(z.string().min(1).max(64)).min(1).max(32).optional(),
  /**
   * `event_time` is `time.asctime()`: the verifier's local time, without a zone. This is the
   * verifier's offset from UTC in minutes (east positive); 0, the usual container setting, by default.
   */
  verifierUtcOffsetMinutes: z.number().int().min(-14 * 60).max(14 * 60).default(0),
});
export type KeylimeAdapterOptions = z.input<typeof KeylimeAdapterOptions>;

// ---- the format --------------------------------------------------------------------------

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
// Python's asctime pads the day with a space: "Thu Nov  5 17:11:20 2026".
const ASCTIME = /^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

/** asctime text → the wall-clock time read as if it were UTC, in ms. */
const AsctimeWallClock = z.string().transform((text, ctx) => {
  const match = ASCTIME.exec(text);
  const fail = (why: string) => {
    ctx.addIssue({ code: 'custom', message: `${why}, got ${quoted(text)}` });
    return z.NEVER;
  };
  if (!match) return fail('must be asctime text such as "Thu Nov 26 17:11:20 2026"');
  const [, weekday, month, day, hour, minute, second, year] = match as unknown as [string, string, string, string, string, string, string, string];
  const ms = Date.UTC(Number(year), MONTHS.indexOf(month), Number(day), Number(hour), Number(minute), Number(second));
  const date = new Date(ms);
  if (
    date.getUTCDate() !== Number(day) ||
    date.getUTCHours() !== Number(hour) ||
    date.getUTCMinutes() !== Number(minute) ||
    date.getUTCSeconds() !== Number(second)
  ) {
    return fail('is not a valid date and time');
  }
  if (WEEKDAYS[date.getUTCDay()] !== weekday) return fail(`names the wrong weekday: ${month} ${Number(day)} ${year} is a ${WEEKDAYS[date.getUTCDay()]}`);
  return ms;
});

const Body = z.looseObject({
  msg: z.string({ error: (issue) => (issue.input === undefined ? 'required' : 'must be JSON text (a string)') }),
  signature: z.string().optional(),
});

const Message = z.looseObject({
  type: z.string().refine((type) => type === 'revocation', { message: 'only "revocation" notifications are understood' }),
  // The host id (the Kafka key), the host name and the fault name: refused here, by their Keylime names.
  agent_id: Name,
  /** The agent's contact address: an IP address, or a host name where Keylime was given one. */
  ip: Name,
  event_time: AsctimeWallClock,
  // Absent when the verifier revokes without a failure event.
  event_id: Name.optional(),
  severity_label: z.string().min(1).max(64).optional(),
  context: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
});

const Context = z.looseObject({
  message: z.string().optional(),
  // The PCR checks put their message under "context".
  context: z.string().optional(),
  got: z.unknown().optional(),
  expected: z.unknown().optional(),
  // What failed, for quote and parsing failures: {"message": ..., "error" | "data": ...}.
  error: z.unknown().optional(),
  data: z.unknown().optional(),
  pcr: z.number().int().min(0).max(23).optional(),
});
type Context = z.output<typeof Context>;

// ---- the mapping -------------------------------------------------------------------------

const PCR_IN_EVENT = /(?:^|\.)(?:invalid|missing|unused)_pcr_(\d+)$/;

/**
 * Converts the body Keylime's verifier POSTs to its revocation webhook into a `trust.change`
 * event. `msg` and `msg.context` are JSON text inside it: each is held to `limits` as a body is.
 */
export function fromKeylime(body: unknown, opts: KeylimeAdapterOptions = {}, limits: IngestLimits = DEFAULT_INGEST_LIMITS): IngestEventInput {
  const options = parseOrThrow(KeylimeAdapterOptions, opts, 'invalid Keylime adapter options', 'opts');
  const { msg: text } = parseOrThrow(Body, body, WHAT);

  const parsed = withinLimits(parseJson(text, WHAT, 'msg'), limits, WHAT, { path: ['msg'] });
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw fieldError(WHAT, 'msg', 'must be the JSON text of an object');
  }
  const msg = parseOrThrow(Message, parsed, WHAT, 'msg');
  const context = msg.context === undefined ? undefined : parseOrThrow(Context, contextObject(msg.context, limits), WHAT, 'msg.context');

  const flavors: z.input<typeof FlavorResult>[] = [];
  if (msg.event_id !== undefined) {
    const pcrIndex = context?.pcr ?? pcrOfEvent(msg.event_id);
    flavors.push({ kind: flavorKind(msg.event_id, pcrIndex), trusted: false, faults: [fault(msg.event_id, pcrIndex, context)] });
  }

  const ip = isIP(msg.ip) !== 0 ? msg.ip : undefined;
  const event: IngestEventInput = {
    type: 'trust.change',
    time: msg.event_time - options.verifierUtcOffsetMinutes * 60_000,
    source: { system: ATTESTATION_SYSTEM, vendor: 'Keylime', product: 'Keylime Verifier' },
    host: defined({ id: msg.agent_id, name: options.hostName ?? (ip ? undefined : msg.ip), ip, pool: options.pool }),
    severity: severityOf(msg.severity_label, options.severityLabels ?? KEYLIME_DEFAULT_SEVERITY_LABELS),
    tenant: options.tenant,
    payload: {
      // A revocation says the host failed attestation; what it was before, the processor knows.
      status: 'untrusted',
      attestationService: 'keylime',
      flavors,
      assetTags: {},
    },
  };
  return defined(event);
}

/** `context` is JSON text of a dict; tolerate a plain message the way Keylime's own Event does. */
function contextObject(context: string | Record<string, unknown>, limits: IngestLimits): Record<string, unknown> {
  if (typeof context !== 'string') return context;
  let value: unknown;
  try {
    value = JSON.parse(context);
  } catch {
    return { message: context }; // not JSON: a message
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { message: context };
  return withinLimits(value as Record<string, unknown>, limits, WHAT, { path: ['msg', 'context'] });
}

function pcrOfEvent(eventId: string): number | undefined {
  const digits = PCR_IN_EVENT.exec(eventId)?.[1];
  if (digits === undefined) {
    // IMA's PCR mismatch names no PCR, but there is only one it can be.
    return eventId === 'ima.pcr_mismatch' ? IMA_PCR : undefined;
  }
  const index = Number(digits);
  if (index > 23) throw fieldError(WHAT, 'msg.event_id', `names PCR ${index}: a TPM has PCRs 0-23`);
  return index;
}

/**
 * Which flavor part the failure belongs to, in Intel SecL's terms: firmware and boot
 * (PCR 0-7, the measured boot log) is the PLATFORM, IMA's runtime file measurements are
 * SOFTWARE, the other PCRs (kernel, initrd, OS configuration) the OS. A failed quote itself
 * (bad signature, nonce, algorithm) concerns the TPM, so the PLATFORM.
 */
function flavorKind(eventId: string, pcrIndex: number | undefined): z.input<typeof FlavorKind> {
  const component = eventId.split('.', 1)[0];
  if (component === 'ima') return 'SOFTWARE';
  if (component === 'measured_boot') return 'PLATFORM';
  if (pcrIndex === undefined) return 'PLATFORM';
  if (pcrIndex <= 7) return 'PLATFORM';
  if (pcrIndex === IMA_PCR) return 'SOFTWARE';
  return 'OS';
}

function fault(eventId: string, pcrIndex: number | undefined, context: Context | undefined): z.input<typeof AttestationFault> {
  const parts = [context?.message ?? context?.context, renderValue(context?.error), renderValue(context?.data)].filter((part) => part !== undefined);
  const description = parts.length === 0 ? undefined : clampText(parts.join(': '));
  return defined({
    name: eventId,
    description,
    pcrIndex,
    expected: renderValue(context?.expected),
    actual: renderValue(context?.got),
  });
}

/**
 * The label's rank among the verifier's labels, spread over 2-10. A label the verifier's list
 * lacks, or none at all, is the highest severity: Keylime itself treats an unknown label so.
 */
function severityOf(label: string | undefined, labels: readonly string[]): number {
  const rank = label === undefined ? -1 : labels.indexOf(label);
  if (rank < 0) return 10;
  if (labels.length === 1) return 10;
  return Math.round(2 + (8 * rank) / (labels.length - 1));
}
