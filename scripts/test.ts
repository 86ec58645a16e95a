/**
 * `npm test`: starts what the suite needs (the local Kafka broker), runs every test file under
 * test/ with node's test runner, and stops what it started. `npm test -- FILE...` runs a subset.
 * `npm run soak` runs the long fault and soak variants under test/soak/ instead.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PROJECT_ROOT } from '../src/embedded/paths.js';
import { startLocalKafka, stopLocalKafka } from './kafka/broker.js';

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? testFiles(join(dir, entry.name)) : entry.name.endsWith('.test.ts') ? [join(dir, entry.name)] : []))
    .sort();
}

// `npm test` runs everything under test/ but the soak variants; `npm run soak` runs those alone.
const soak = process.argv[2] === '--soak';
const args = process.argv.slice(soak ? 3 : 2);
const soakDir = join(PROJECT_ROOT, 'test', 'soak');
const files =
  args.length > 0
    ? args
    : (soak ? testFiles(soakDir) : testFiles(join(PROJECT_ROOT, 'test')).filter((file) => !file.startsWith(soakDir))).map((f) => relative(PROJECT_ROOT, f));
const say = (line: string) => process.stderr.write(`[test setup] ${line}\n`);

const broker = await startLocalKafka({ onProgress: say });
say(`Kafka at ${broker.brokers.join(',')} (${broker.started ? 'started' : 'reused'}; log ${broker.logFile})`);

const exitCode = await new Promise<number>((resolve) => {
  const child = spawn(process.execPath, [
      '--import',
      'tsx',
      '--test',
      '--test-reporter=spec',
      `--test-concurrency=${process.env.TRUSTWIRE_TEST_CONCURRENCY ?? (soak ? 1 : 2)}`,
      // A file whose tests are done ends even if a client left a socket open: a leak must fail
      // loudly in its own test, not hang the whole run until CI's time is out.
      '--test-force-exit',
      ...files,
    ], {
    cwd: PROJECT_ROOT,
    stdio: 'inherit',
    env: { ...process.env, TRUSTWIRE_TEST_BROKERS: broker.brokers.join(','), ...(soak && { TRUSTWIRE_SOAK: '1' }) },
  });
  child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
});

// A broker this run started is stopped; one that was already running (a developer's) stays.
if (broker.started && process.env.TRUSTWIRE_KEEP_BROKER !== '1') {
  await stopLocalKafka();
  say('stopped the Kafka broker this run started');
}
process.exitCode = exitCode;
