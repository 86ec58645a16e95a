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

/**
 * How long the whole run may take. A file whose tests are done but whose process stays up (a
 * client left a socket open) would hold the run forever: past this it is killed, loudly. Not
 * node's --test-force-exit: under process isolation it drops the verdicts of a file's last tests
 * before the runner reads them, at exit 0 (nodejs/node#64833; here adapters.test.ts reported
 * 26 to 38 of its 38), so a failing test could go unseen.
 */
const deadlineMinutes = Number(process.env.TRUSTWIRE_TEST_DEADLINE_MINUTES ?? (soak ? 85 : 30));

const exitCode = await new Promise<number>((resolve) => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-concurrency=${process.env.TRUSTWIRE_TEST_CONCURRENCY ?? (soak ? 1 : 2)}`, ...files],
    {
      cwd: PROJECT_ROOT,
      stdio: 'inherit',
      // Its own process group, so that the deadline ends the test files' processes too.
      detached: true,
      env: { ...process.env, TRUSTWIRE_TEST_BROKERS: broker.brokers.join(','), ...(soak && { TRUSTWIRE_SOAK: '1' }) },
    },
  );
  const deadline = setTimeout(() => {
    say(`the run is past its ${deadlineMinutes} minutes: a test file has not ended (a handle left open?); the last files the runner named above are the suspects. Killing the run`);
    process.kill(-child.pid!, 'SIGKILL');
  }, deadlineMinutes * 60_000);
  // A Ctrl-C (or a CI's SIGTERM) reaches the group, which is not the terminal's foreground one.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.kill(-child.pid!, signal));
  child.on('exit', (code, signal) => {
    clearTimeout(deadline);
    resolve(code ?? (signal ? 1 : 0));
  });
});

// A broker this run started is stopped; one that was already running (a developer's) stays.
if (broker.started && process.env.TRUSTWIRE_KEEP_BROKER !== '1') {
  await stopLocalKafka();
  say('stopped the Kafka broker this run started');
}
process.exitCode = exitCode;
