import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { configBaseDir } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { ComplianceSettings } from '../processor/logic.js';
import { BUNDLED_TEMPLATES_DIR, loadTemplate, loadTemplates } from './load.js';

/**
 * The templates (bundled, and the configured folders and files, relative to the configuration),
 * waivers and model the processor scores with. A broken template stops the start, naming the
 * file, rule and reason: scoring against half a template would report wrong scores quietly.
 */
export function complianceSettings(config: Config): ComplianceSettings {
  const templates = config.compliance.bundled ? loadTemplates(BUNDLED_TEMPLATES_DIR) : [];
  for (const entry of config.compliance.templates) {
    const path = resolve(configBaseDir(config), entry);
    const loaded = statSync(path).isDirectory() ? loadTemplates(path) : [loadTemplate(path)];
    for (const template of loaded) {
      if (templates.some((t) => t.id === template.id)) throw new Error(`${path}: template id ${template.id} is already loaded`);
      templates.push(template);
    }
  }
  return { templates, waivers: config.compliance.waivers, ...(config.compliance.model !== undefined && { model: config.compliance.model }) };
}
