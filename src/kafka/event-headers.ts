/** The headers trustwire puts on the event records it writes: tools route and count by them without decoding. */

/** Header naming the event kind, so tools can route or count without decoding the Avro. */
export const TYPE_HEADER = 'trustwire-type';

/**
 * Header saying the event passed the contract's every rule where it entered (this writer is
 * only given events the zod schema parsed): the processor does not check it a second time.
 * Records without it (another producer writing Avro or JSON) are checked there in full.
 */
export const VALIDATED_HEADER = 'trustwire-validated';
