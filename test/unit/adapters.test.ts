import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fromIntelSeclReport, fromIntelSeclReportCollection } from '../../src/ingest/adapters/intel-secl-hvs.js';
import { fromKeylime } from '../../src/ingest/adapters/keylime.js';
import { IngestEvent, type IngestEventInput } from '../../src/model/events.js';
import { ValidationError } from '../../src/model/validation.js';

type TrustChangeInput = Extract<IngestEventInput, { type: 'trust.change' }>;

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/adapters/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

/** The event as the adapter returned it, after checking that ingest would accept it. */
function accepted(event: IngestEventInput): TrustChangeInput {
  IngestEvent.parse(event);
  assert.equal(event.type, 'trust.change');
  return event as TrustChangeInput;
}

function assertRefused(run: () => unknown, path: string, message?: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
    const detail = error.details.find((d) => d.path === path);
    assert.ok(detail, `expected an error at ${path}, got ${JSON.stringify(error.details)}`);
    if (message) assert.match(detail.message, message);
    return true;
  });
}

/** A Keylime webhook body with `msg` changed as given (undefined removes a field). */
function keylimeWith(changes: Record<string, unknown>, name = 'keylime-pcr-mismatch.json'): Record<string, unknown> {
  const body = fixture(name);
  const msg = JSON.parse(body.msg as string) as Record<string, unknown>;
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete msg[key];
    else msg[key] = value;
  }
  return { ...body, msg: JSON.stringify(msg) };
}

const PCR0_GOOD = '74c8a9b86c3a6a29fc53b45c7ae4fe480ac5dc01b0684a385a3242aa05969033';
const PCR0_BAD = 'da7283ee749fa0abb6c99f1a28662c4be4543afabdbcb717306a1c98d3266e6f';

describe('Keylime revocation notification', () => {
  it('makes a PCR 0 mismatch an untrusted PLATFORM with the PCR, expected and actual values', () => {
    const event = accepted(fromKeylime(fixture('keylime-pcr-mismatch.json')));
    assert.equal(event.time, Date.UTC(2026, 10, 26, 17, 11, 20));
    assert.equal(event.severity, 10); // emergency
    assert.deepEqual(event.source, { system: 'attestation', vendor: 'Keylime', product: 'Keylime Verifier' });
    assert.deepEqual(event.host, { id: 'd432fbb3-d2f1-4a97-9ef7-75bd81c00000', ip: '10.20.30.41' });
    assert.deepEqual(event.payload, {
      status: 'untrusted',
      attestationService: 'keylime',
      flavors: [
        {
          kind: 'PLATFORM',
          trusted: false,
          faults: [
            {
              name: 'pcr_validation.invalid_pcr_0',
              description: 'PCR value is not in allowlist',
              pcrIndex: 0,
              expected: PCR0_GOOD,
              actual: PCR0_BAD,
            },
          ],
        },
      ],
      assetTags: {},
    });
  });

  it('leaves the previous status and the unverified signature out', () => {
    const body = fixture('keylime-pcr-mismatch.json');
    const event = accepted(fromKeylime(body));
    assert.equal('previousStatus' in event.payload, false);
    assert.equal('reportId' in event.payload, false);
    assert.equal(JSON.stringify(event).includes(body.signature as string), false);
  });

  it('makes a file missing from the IMA allowlist an untrusted SOFTWARE naming the file', () => {
    const event = accepted(fromKeylime(fixture('keylime-ima-not-in-allowlist.json')));
    // asctime pads the day with a space: "Thu Nov  5 03:04:05 2026"
    assert.equal(event.time, Date.UTC(2026, 10, 5, 3, 4, 5));
    assert.equal(event.severity, 7); // critical, the fifth of seven labels
    assert.deepEqual(event.host, { id: '0c4e5ff2-8b3a-4f7e-9d7e-2b1a6c9e4d10', ip: '10.20.30.57' });
    assert.deepEqual(event.payload.flavors, [
      {
        kind: 'SOFTWARE',
        trusted: false,
        faults: [{ name: 'ima.validation.ima-ng.not_in_allowlist', description: 'File not found in allowlist: /usr/local/bin/xmrig' }],
      },
    ]);
  });

  it('chooses the flavor kind from the component and the PCR', () => {
    const cases: [string, string, number | undefined][] = [
      ['measured_boot.invalid_pcr_4', 'PLATFORM', 4],
      ['pcr_validation.invalid_pcr_7', 'PLATFORM', 7],
      ['pcr_validation.invalid_pcr_9', 'OS', 9],
      ['pcr_validation.invalid_pcr_16', 'OS', 16],
      ['pcr_validation.unused_pcr_10', 'SOFTWARE', 10],
      ['ima.pcr_mismatch', 'SOFTWARE', 10],
      ['ima.validation.ima-ng.runtime_policy_hash', 'SOFTWARE', undefined],
      ['qoute_validation.quote_validation', 'PLATFORM', undefined],
    ];
    for (const [eventId, kind, pcrIndex] of cases) {
      const event = accepted(fromKeylime(keylimeWith({ event_id: eventId })));
      const flavor = event.payload.flavors?.[0];
      assert.equal(flavor?.kind, kind, eventId);
      assert.equal(flavor?.faults?.[0]?.pcrIndex, pcrIndex, eventId);
    }
  });

  it('maps severity labels onto 2-10, honouring the verifier\'s own labels', () => {
    const severity = (label: string | undefined, severityLabels?: string[]) =>
      accepted(fromKeylime(keylimeWith({ severity_label: label }), severityLabels ? { severityLabels } : {})).severity;
    assert.equal(severity('info'), 2);
    assert.equal(severity('warning'), 5);
    assert.equal(severity('error'), 6);
    assert.equal(severity('emergency'), 10);
    assert.equal(severity('unheard-of'), 10, 'Keylime treats an unknown label as the highest');
    assert.equal(severity(undefined), 10);
    assert.equal(severity('low', ['low', 'medium', 'high']), 2);
    assert.equal(severity('medium', ['low', 'medium', 'high']), 6);
  });

  it('reads event_time in the verifier\'s zone when told its offset', () => {
    const event = accepted(fromKeylime(fixture('keylime-pcr-mismatch.json'), { verifierUtcOffsetMinutes: 60 }));
    assert.equal(event.time, Date.UTC(2026, 10, 26, 16, 11, 20));
  });

  it('takes a host name given as the agent address as the host name, and the caller\'s pool and tenant', () => {
    const event = accepted(fromKeylime(keylimeWith({ ip: 'kvm-prod-017.fra1.example.net' }), { pool: 'fra1-trusted', tenant: 'acme' }));
    assert.deepEqual(event.host, { id: 'd432fbb3-d2f1-4a97-9ef7-75bd81c00000', name: 'kvm-prod-017.fra1.example.net', pool: 'fra1-trusted' });
    assert.equal(event.tenant, 'acme');
    const named = accepted(fromKeylime(fixture('keylime-pcr-mismatch.json'), { hostName: 'kvm-prod-017' }));
    assert.equal(named.host.name, 'kvm-prod-017');
  });

  it('reads a context given as an object, and one that is plain text', () => {
    const object = accepted(fromKeylime(keylimeWith({ context: { message: 'Quote data validation', error: 'nonce mismatch' } })));
    assert.equal(object.payload.flavors?.[0]?.faults?.[0]?.description, 'Quote data validation: nonce mismatch');
    const missing = accepted(
      fromKeylime(keylimeWith({ event_id: 'pcr_validation.missing_pcrs', context: JSON.stringify({ context: 'PCRs are missing in quote', data: [4, 7] }) })),
    );
    assert.deepEqual(missing.payload.flavors?.[0]?.faults, [{ name: 'pcr_validation.missing_pcrs', description: 'PCRs are missing in quote: 4 | 7' }]);
    const text = accepted(fromKeylime(keylimeWith({ context: 'agent sent garbage' })));
    assert.equal(text.payload.flavors?.[0]?.faults?.[0]?.description, 'agent sent garbage');
  });

  it('still reports the host untrusted when the revocation carries no failure event', () => {
    const event = accepted(fromKeylime(keylimeWith({ event_id: undefined, severity_label: undefined, context: undefined })));
    assert.equal(event.payload.status, 'untrusted');
    assert.deepEqual(event.payload.flavors, []);
  });

  it('tolerates fields Keylime adds, such as the old vtpm_policy', () => {
    const event = accepted(fromKeylime({ ...keylimeWith({ vtpm_policy: '{"mask": "0x0"}' }), received_by: 'proxy-1' }));
    assert.equal(event.payload.status, 'untrusted');
  });

  describe('refuses', () => {
    it('a msg that is not JSON', () => {
      assertRefused(() => fromKeylime({ msg: '{"type": "revocation", ', signature: '' }), 'msg', /JSON/);
    });
    it('a msg that is an object rather than JSON text', () => {
      assertRefused(() => fromKeylime({ msg: { type: 'revocation' }, signature: '' }), 'msg', /JSON text/);
    });
    it('a body that is not an object', () => {
      assertRefused(() => fromKeylime('revocation'), '(root)');
    });
    it('a missing agent_id', () => {
      assertRefused(() => fromKeylime(keylimeWith({ agent_id: undefined })), 'msg.agent_id');
    });
    it('an event_time that is not asctime', () => {
      assertRefused(() => fromKeylime(keylimeWith({ event_time: '2026-11-26T17:11:20Z' })), 'msg.event_time', /asctime/);
    });
    it('an event_time whose weekday does not match its date', () => {
      assertRefused(() => fromKeylime(keylimeWith({ event_time: 'Mon Nov 26 17:11:20 2026' })), 'msg.event_time', /Thu/);
    });
    it('an event_time on a day that does not exist', () => {
      assertRefused(() => fromKeylime(keylimeWith({ event_time: 'Tue Feb 30 17:11:20 2027' })), 'msg.event_time', /valid date/);
    });
    it('a message of another type', () => {
      assertRefused(() => fromKeylime(keylimeWith({ type: 'heartbeat' })), 'msg.type', /revocation/);
    });
    it('an event naming a PCR a TPM does not have', () => {
      assertRefused(() => fromKeylime(keylimeWith({ event_id: 'pcr_validation.invalid_pcr_24' })), 'msg.event_id', /0-23/);
    });
    it('a context naming a PCR out of range', () => {
      assertRefused(() => fromKeylime(keylimeWith({ context: JSON.stringify({ message: 'x', pcr: 30 }) })), 'msg.context.pcr');
    });
    it('options ingest would refuse', () => {
      assertRefused(() => fromKeylime(fixture('keylime-pcr-mismatch.json'), { pool: '' }), 'opts.pool');
    });
    it('with every problem at once', () => {
      assert.throws(
        () => fromKeylime(keylimeWith({ agent_id: undefined, event_time: 'yesterday' })),
        (error: unknown) =>
          error instanceof ValidationError &&
          error.details.some((d) => d.path === 'msg.agent_id') &&
          error.details.some((d) => d.path === 'msg.event_time'),
      );
    });
  });
});

describe('Intel SecL HVS report', () => {
  it('makes a PCR 0 mismatch an untrusted PLATFORM with index, bank, expected and actual values', () => {
    const report = fixture('hvs-report-untrusted-platform-pcr0.json');
    const event = accepted(fromIntelSeclReport(report));
    assert.equal(event.time, Date.parse('2026-11-26T17:11:20.626Z'));
    assert.equal(event.severity, 9);
    assert.deepEqual(event.source, { system: 'attestation', vendor: 'Intel', product: 'SecL-DC HVS' });
    // The hardware UUID and host name, not HVS's own host record id.
    assert.deepEqual(event.host, { id: '0009e54e-642f-e511-906e-0012795d96dd', name: 'kvm-prod-017.fra1.example.net' });
    assert.equal(event.payload.status, 'untrusted');
    assert.equal('previousStatus' in event.payload, false);
    assert.equal(event.payload.attestationService, 'intel-secl-hvs');
    assert.equal(event.payload.reportId, '7d1c2a9e-3b4f-4c8d-9e0a-1f2b3c4d5e6f');
    assert.deepEqual(event.payload.assetTags, {});
    const flavors = event.payload.flavors ?? [];
    assert.deepEqual(
      flavors.map((f) => [f.kind, f.trusted, f.faults?.length]),
      [
        ['PLATFORM', false, 1],
        ['OS', true, 0],
        ['HOST_UNIQUE', true, 0],
      ],
    );
    const platform = flavors[0];
    assert.equal(platform?.flavorId, '753e5fc3-11b0-4a38-a2a0-4a264aa40139');
    const fault = platform?.faults?.[0];
    assert.equal(fault?.name, 'fault.PcrValueMismatchSHA256');
    assert.equal(fault?.pcrIndex, 0);
    assert.equal(fault?.pcrBank, 'SHA256');
    assert.equal(fault?.expected, '9fe8531396b82f75a703ad5d79b4a217a5c98fe5f01d33c37f0772844df2bff5');
    assert.equal(fault?.actual, '82874ca98dce88699154657b0b8f159660ab231922bd321520ce684dd6a98092');
    assert.match(fault?.description ?? '', /^Host PCR 0 of SHA256 with value/);
  });

  it('makes a fully trusted report trusted, low severity, with the asset tags it proved', () => {
    const event = accepted(fromIntelSeclReport(fixture('hvs-report-trusted-asset-tags.json')));
    assert.equal(event.payload.status, 'trusted');
    assert.equal(event.severity, 1);
    assert.equal(event.time, Date.parse('2026-11-26T17:15:02.104Z'));
    assert.deepEqual(event.host, { id: '8a3f1c22-5e6b-11ec-9b2d-3cecef1a2b44', name: 'kvm-prod-018.fra1.example.net' });
    assert.deepEqual(event.payload.assetTags, { Country: 'DE', Site: 'FRA-1', Classification: 'restricted' });
    assert.deepEqual(
      event.payload.flavors?.map((f) => [f.kind, f.trusted, f.faults?.length]),
      [
        ['PLATFORM', true, 0],
        ['OS', true, 0],
        ['HOST_UNIQUE', true, 0],
        ['SOFTWARE', true, 0],
        ['ASSET_TAG', true, 0],
      ],
    );
  });

  it('does not claim asset tags an untrusted ASSET_TAG part failed to prove', () => {
    const report = fixture('hvs-report-trusted-asset-tags.json') as { trust_information: { OVERALL: boolean; flavors_trust: Record<string, { trust: boolean }> } };
    report.trust_information.OVERALL = false;
    const assetTag = report.trust_information.flavors_trust.ASSET_TAG as { trust: boolean; rules: { trusted: boolean; faults?: unknown[] }[] };
    assetTag.trust = false;
    assetTag.rules[0]!.trusted = false;
    assetTag.rules[0]!.faults = [{ fault_name: 'fault.AssetTagMismatch', description: 'Asset tag provisioned does not match asset tag reported' }];
    const event = accepted(fromIntelSeclReport(report));
    assert.equal(event.payload.status, 'untrusted');
    assert.deepEqual(event.payload.assetTags, {});
    assert.equal(event.severity, 6, 'an asset tag mismatch is a placement problem, not an integrity one');
    assert.deepEqual(event.payload.flavors?.find((f) => f.kind === 'ASSET_TAG')?.faults, [
      { name: 'fault.AssetTagMismatch', description: 'Asset tag provisioned does not match asset tag reported' },
    ]);
  });

  it('reads a v3 report: long names, "pcr_N" rule indexes, expected_value / actual_value', () => {
    const event = accepted(fromIntelSeclReport(fixture('hvs-report-v3-untrusted-os-pcr17.json')));
    assert.equal(event.payload.status, 'untrusted');
    assert.equal(event.severity, 8);
    assert.equal(event.time, Date.parse('2020-09-30T18:42:07.513Z'));
    // No hardware UUID and a host name that names no machine: HVS's host id, no name.
    assert.deepEqual(event.host, { id: 'a3c7e9f1-2b4d-4e6f-8a1c-3e5f7a9b1d2f' });
    const os = event.payload.flavors?.find((f) => f.kind === 'OS');
    assert.equal(os?.trusted, false);
    assert.equal(os?.flavorId, 'f68544ee-c3ba-4957-bafc-d414e361ad54');
    const [mismatch, eventLog] = os?.faults ?? [];
    assert.equal(mismatch?.name, 'com.intel.mtwilson.core.verifier.policy.fault.PcrValueMismatchSHA1');
    assert.equal(mismatch?.pcrIndex, 17);
    assert.equal(mismatch?.pcrBank, 'SHA1');
    assert.equal(mismatch?.expected, '2c792924e22b1c48d8289a6186b85df0e6032427');
    assert.equal(mismatch?.actual, '972fb2aac3db88569052ad161fb51041d993f6c3');
    // The fault names PCR 19; the bank comes from the rule that raised it.
    assert.deepEqual(eventLog, {
      name: 'com.intel.mtwilson.core.verifier.policy.fault.PcrEventLogInvalid',
      description: 'PCR 19 Event Log is invalid',
      pcrIndex: 19,
      pcrBank: 'SHA1',
    });
  });

  it('uses HVS\'s host id when asked, and the caller\'s host name, pool and tenant', () => {
    const event = accepted(
      fromIntelSeclReport(fixture('hvs-report-untrusted-platform-pcr0.json'), { hostId: 'host_id', hostName: 'kvm17', pool: 'fra1', tenant: 'acme' }),
    );
    assert.deepEqual(event.host, { id: '0e50d114-6809-455c-aa26-36f09e877938', name: 'kvm17', pool: 'fra1' });
    assert.equal(event.tenant, 'acme');
  });

  it('turns a GET /hvs/v2/reports answer into one event per report', () => {
    const events = fromIntelSeclReportCollection({
      reports: [fixture('hvs-report-untrusted-platform-pcr0.json'), fixture('hvs-report-trusted-asset-tags.json')],
    }).map(accepted);
    assert.deepEqual(
      events.map((e) => e.payload.status),
      ['untrusted', 'trusted'],
    );
  });

  it('accepts the nulls Go writes for empty maps and slices', () => {
    const report = fixture('hvs-report-untrusted-platform-pcr0.json') as { trust_information: Record<string, unknown> };
    report.trust_information.flavors_trust = null;
    const event = accepted(fromIntelSeclReport(report));
    assert.deepEqual(event.payload.flavors, []);
    assert.equal(event.severity, 8);
  });

  describe('refuses', () => {
    type Mutable = { trust_information: Record<string, unknown> & { flavors_trust: Record<string, { rules: { faults: Record<string, unknown>[] }[] }> } } & Record<string, unknown>;
    const untrusted = () => fixture('hvs-report-untrusted-platform-pcr0.json') as Mutable;

    it('a report without OVERALL', () => {
      const report = untrusted();
      delete report.trust_information.OVERALL;
      assertRefused(() => fromIntelSeclReport(report), 'trust_information.OVERALL');
    });
    it('a PCR index out of range', () => {
      const report = untrusted();
      report.trust_information.flavors_trust.PLATFORM!.rules[0]!.faults[0]!.pcr_index = 'pcr_24';
      assertRefused(() => fromIntelSeclReport(report), 'trust_information.flavors_trust.PLATFORM.rules[0].faults[0].pcr_index', /0-23/);
    });
    it('a PCR index that is not one', () => {
      const report = untrusted();
      report.trust_information.flavors_trust.PLATFORM!.rules[0]!.faults[0]!.pcr_index = 'bios';
      assertRefused(() => fromIntelSeclReport(report), 'trust_information.flavors_trust.PLATFORM.rules[0].faults[0].pcr_index');
    });
    it('a flavor part HVS does not have', () => {
      const report = untrusted();
      (report.trust_information.flavors_trust as Record<string, unknown>).BIOS = { trust: true, rules: [] };
      assertRefused(() => fromIntelSeclReport(report), 'trust_information.flavors_trust.BIOS', /unknown flavor part/);
    });
    it('an unknown flavor part along with the other problems', () => {
      const report = untrusted();
      delete report.trust_information.OVERALL;
      report.trust_information.flavors_trust.PLATFORM!.rules[0]!.faults[0]!.pcr_index = 'pcr_24';
      (report.trust_information.flavors_trust as Record<string, unknown>).BIOS = { trust: true, rules: [] };
      assert.throws(
        () => fromIntelSeclReport(report),
        (error: unknown) =>
          error instanceof ValidationError &&
          ['trust_information.OVERALL', 'trust_information.flavors_trust.PLATFORM.rules[0].faults[0].pcr_index', 'trust_information.flavors_trust.BIOS'].every(
            (path) => error.details.some((d) => d.path === path),
          ),
      );
    });
    it('flavors_trust that is not a map of flavor parts', () => {
      const report = untrusted();
      report.trust_information.flavors_trust = 'PLATFORM' as never;
      assertRefused(() => fromIntelSeclReport(report), 'trust_information.flavors_trust');
    });
    it('a created time without a zone', () => {
      const report = untrusted();
      report.created = '2026-11-26 17:11:20';
      assertRefused(() => fromIntelSeclReport(report), 'created', /RFC 3339/);
    });
    it('a report id that is not a UUID', () => {
      const report = untrusted();
      report.id = 42;
      assertRefused(() => fromIntelSeclReport(report), 'id');
    });
    it('a bad report inside a collection, naming its place', () => {
      const report = untrusted();
      delete report.trust_information.OVERALL;
      assertRefused(
        () => fromIntelSeclReportCollection({ reports: [fixture('hvs-report-trusted-asset-tags.json'), report] }),
        'reports[1].trust_information.OVERALL',
      );
    });
  });
});
