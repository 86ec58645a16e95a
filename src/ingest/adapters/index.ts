export { fromKeylime, KeylimeAdapterOptions, KEYLIME_DEFAULT_SEVERITY_LABELS } from './keylime.js';
export { fromIntelSeclReport, fromIntelSeclReportCollection, IntelSeclAdapterOptions } from './intel-secl-hvs.js';
export { AdapterOptions } from './common.js';
export { adapt, ADAPTER_NAMES, type AdapterName, type AdapterSettings } from './registry.js';
