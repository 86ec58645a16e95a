/** The formats the sinks send: pure functions from canonical events to text (docs/formats.md). */
export * from './cef.js';
export * from './describe.js';
export * from './epo-xml.js';
export * from './fields.js';
export * from './json.js';
export * from './leef.js';
export * from './mapping.js';
export * from './syslog.js';
export * from './text.js';
