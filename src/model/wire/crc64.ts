/**
 * CRC-64-AVRO, the Rabin fingerprint the Avro specification defines for schemas
 * ("Schema Fingerprints"). Single-object encoding carries it to name the writer's schema.
 */

/** The fingerprint of the empty input, and the polynomial the table is built from. */
export const CRC64_AVRO_EMPTY = 0xc15d213aa4d7a795n;

const TABLE: readonly bigint[] = (() => {
  const table: bigint[] = [];
  for (let i = 0; i < 256; i++) {
    let fp = BigInt(i);
    // -(fp & 1) in the spec's Java is all ones or zero: pick EMPTY or nothing.
    for (let j = 0; j < 8; j++) fp = (fp >> 1n) ^ (fp & 1n ? CRC64_AVRO_EMPTY : 0n);
    table.push(fp);
  }
  return table;
})();

/** CRC-64-AVRO of `data` (a string is taken as its UTF-8 bytes), as an unsigned 64-bit bigint. */
export function crc64Avro(data: string | Uint8Array): bigint {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let fp = CRC64_AVRO_EMPTY;
  for (const byte of bytes) fp = (fp >> 8n) ^ TABLE[Number((fp ^ BigInt(byte)) & 0xffn)]!;
  return fp;
}

/** The 8-byte little-endian form that single-object encoding puts on the wire. */
export function fingerprintBytes(fingerprint: bigint): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(BigInt.asUintN(64, fingerprint));
  return out;
}

/** As Java's `long` (how the Avro specification's test data prints fingerprints). */
export function toSignedFingerprint(fingerprint: bigint): bigint {
  return BigInt.asIntN(64, fingerprint);
}

/** 16 hex digits, for error messages and logs. */
export function fingerprintHex(fingerprint: bigint): string {
  return BigInt.asUintN(64, fingerprint).toString(16).padStart(16, '0');
}
