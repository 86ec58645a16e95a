/** `npm run bench -- [--quick] [--rounds N] [--events N] [--only a,b] [--rate N]`. */

/** Throughput scenarios, run in every round (the order rotated per round). */
export const ROUND_SCENARIOS = ['raw', 'raw-events', 'kcat', 'rsyslog', 'syslog', 'hec', 'fanout', 'processor'] as const;
/** Run once, after the rounds: the whole service fed over HTTP at a fixed rate. */
export const SERVICE_SCENARIOS = ['latency', 'outage'] as const;
export const ALL_SCENARIOS: readonly string[] = [...ROUND_SCENARIOS, ...SERVICE_SCENARIOS];

export interface BenchOptions {
  quick: boolean;
  events: number;
  rounds: number;
  /** Scenarios to run (all by default). */
  only: ReadonlySet<string>;
  /** The service scenarios: the ingest rate, and how long each phase lasts. */
  ratePerSecond: number;
  warmupSeconds: number;
  latencySeconds: number;
  outageSeconds: number;
}

const USAGE = `usage: npm run bench -- [--quick] [--rounds N] [--events N] [--only ${ALL_SCENARIOS.join(',')}]
  --quick      20,000 events, 8 s of latency, a 10 s outage (under 3 minutes)
  --rounds N   rounds of the throughput scenarios (default 3; at least 3 for a full run)
  --events N   events per topic (default 200,000)
  --only a,b   only these scenarios (for development)
  --rate N     events/s posted in the service scenarios (default 5,000)`;

export function parseOptions(argv: readonly string[]): BenchOptions {
  let quick = false;
  let events: number | undefined;
  let rounds: number | undefined;
  let only: string[] | undefined;
  let rate: number | undefined;
  const number = (flag: string, value: string | undefined) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`${flag} needs a positive whole number, got ${JSON.stringify(value)}\n${USAGE}`);
    return parsed;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--quick') quick = true;
    else if (flag === '--events') events = number(flag, value());
    else if (flag === '--rounds') rounds = number(flag, value());
    else if (flag === '--rate') rate = number(flag, value());
    else if (flag === '--only') only = (value() ?? '').split(',').map((name) => name.trim()).filter(Boolean);
    else if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown option ${arg}\n${USAGE}`);
  }
  const unknown = (only ?? []).filter((name) => !ALL_SCENARIOS.includes(name));
  if (unknown.length > 0) throw new Error(`no scenario ${unknown.join(', ')}; there are: ${ALL_SCENARIOS.join(', ')}`);
  return {
    quick,
    events: events ?? (quick ? 20_000 : 200_000),
    rounds: rounds ?? 3,
    only: new Set(only && only.length > 0 ? only : ALL_SCENARIOS),
    ratePerSecond: rate ?? 5000,
    warmupSeconds: quick ? 1 : 2,
    latencySeconds: quick ? 8 : 20,
    outageSeconds: quick ? 10 : 60,
  };
}
