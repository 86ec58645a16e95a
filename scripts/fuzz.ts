/**
 * `npm run fuzz`: every fuzzer under test/fuzz/ with 10^6 inputs each (npm test runs 10^4),
 * one file after another (each is one process, so a 2-core machine keeps a core for the rest),
 * from a fresh seed that is printed: a failure names its run's seed to replay it with.
 * `npm run fuzz -- FILE...` runs some; TRUSTWIRE_FUZZ_RUNS and TRUSTWIRE_FUZZ_SEED override.
 */
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PROJECT_ROOT } from '../src/embedded/paths.js';

const FUZZ_DIR = join(PROJECT_ROOT, 'test', 'fuzz');
const args = process.argv.slice(2);
const files =
  args.length > 0
    ? args
    : readdirSync(FUZZ_DIR)
        .filter((name) => name.endsWith('.test.ts'))
        .sort()
        .map((name) => relative(PROJECT_ROOT, join(FUZZ_DIR, name)));
const runs = process.env.TRUSTWIRE_FUZZ_RUNS ?? '1000000';
const seed = process.env.TRUSTWIRE_FUZZ_SEED ?? String(randomInt(2 ** 32));
const say = (line: string) => process.stderr.write(`[fuzz] ${line}\n`);

say(`${runs} inputs per fuzzer, base seed ${seed} (TRUSTWIRE_FUZZ_SEED=${seed} runs these inputs again)`);
const failed: string[] = [];
for (const file of files) {
  const started = Date.now();
  say(`${file} ...`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', file], {
    cwd: PROJECT_ROOT,
    stdio: 'inherit',
    env: { ...process.env, TRUSTWIRE_FUZZ_RUNS: runs, TRUSTWIRE_FUZZ_SEED: seed },
  });
  const ok = result.status === 0;
  if (!ok) failed.push(file);
  say(`${file}: ${ok ? 'passed' : 'FAILED'} in ${Math.round((Date.now() - started) / 1000)} s`);
}
say(failed.length === 0 ? `all ${files.length} fuzzers passed (seed ${seed})` : `failed: ${failed.join(', ')} (seed ${seed})`);
process.exitCode = failed.length === 0 ? 0 : 1;
