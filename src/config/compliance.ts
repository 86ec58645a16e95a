import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { BUNDLED_TEMPLATES_DIR, loadTemplate, loadTemplates } from '../compliance/load.js';
import type { ComplianceSettings } from '../compliance/score.js';
import { configBaseDir } from './load.js';
import type { Config } from './schema.js';

/**
 * The templates (bundled, and the configured folders and files, relative to the configuration),
 * waivers and model the processor scores with. A broken template stops the start, naming the
 * file, rule and reason: scoring against half a template would report wrong scores quietly.
 */
export function complianceSettings(config: Config): ComplianceSettings {
  return complianceSettingsOf(config.compliance, configBaseDir(config));
}

/** The same from the `compliance` block alone and the folder its paths are relative to. */
export function complianceSettingsOf(compliance: Config['compliance'], baseDir: string): ComplianceSettings {
  const templates = compliance.bundled ? loadTemplates(BUNDLED_TEMPLATES_DIR) : [];
  for (const [index, entry] of compliance.templates.entries()) {
    const path = resolve(baseDir, entry);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat === undefined) throw new Error(`compliance.templates[${index}]: ${path} does not exist`);
    const loaded = stat.isDirectory() ? loadTemplates(path) : [loadTemplate(path)];
    for (const template of loaded) {
      if (templates.some((t) => t.id === template.id)) throw new Error(`${path}: template id ${template.id} is already loaded`);
      templates.push(template);
    }
  }
  return { templates, waivers: compliance.waivers, ...(compliance.model !== undefined && { model: compliance.model }) };
}
