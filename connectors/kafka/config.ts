import { z } from 'zod';

export const KafkaSinkOptions = z.strictObject({
  topic: z
    .string()
    .regex(/^[a-zA-Z0-9._-]{1,249}$/, 'must be a Kafka topic name: letters, digits, ".", "_" and "-", at most 249')
    .describe("topic the events are published to, on trustwire's own cluster; it must exist (never the topic this sink consumes)")
    .meta({ examples: ['soc.trustwire-events'] }),
  format: z
    .enum(['avro', 'json'])
    .default('avro')
    .describe("avro: Avro single-object encoding (C3 01, the schema's CRC-64-AVRO fingerprint, the binary), as on trustwire's own topics; json: one JSON object per record")
    .meta({ examples: ['json'] }),
});
export type KafkaSinkOptions = z.output<typeof KafkaSinkOptions>;
