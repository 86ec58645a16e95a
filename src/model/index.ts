export * from './primitives.js';
export * from './payloads.js';
export * from './events.js';
export * from './validation.js';
