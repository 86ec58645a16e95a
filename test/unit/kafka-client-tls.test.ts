import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createServer, type Server } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { Secret } from '../../src/config/secret.js';
import { createKafkaClient, withAdmin } from '../../src/kafka/client.js';
import { silentLogger } from '../../src/log.js';
import { makeTestCertificates } from '../helpers/certs.js';
import { eventually } from '../helpers/eventually.js';

const certs = makeTestCertificates();
let server: Server | undefined;
after(() => server?.close());

test('a broker that refuses the client certificate after the TLS handshake fails the call; the process lives on', async () => {
  // A TLS 1.3 listener that requires client certificates sends its refusal after the client
  // thinks the handshake is done, as a Kafka listener with ssl.client.auth=required does.
  server = createServer({ cert: certs.pem('serverCert'), key: certs.pem('serverKey'), ca: certs.pem('ca'), requestCert: true, rejectUnauthorized: true }, (socket) => socket.end());
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const client = createKafkaClient(
    {
      brokers: [`127.0.0.1:${(server.address() as AddressInfo).port}`],
      clientId: 'tls-refused',
      ssl: { ca: certs.pem('ca'), rejectUnauthorized: true },
      sasl: { mechanism: 'scram-sha-512', username: 'trustwire', password: new Secret('pw', 'inline') },
    },
    silentLogger,
  );
  await assert.rejects(withAdmin(client, (admin) => admin.listTopics()));
  // Before the guard in src/kafka/client.ts, a second 'error' on the connection killed the
  // process as its socket closed: wait until the server saw every connection go.
  await eventually(async () => (await new Promise<number>((resolve, reject) => server!.getConnections((error, count) => (error ? reject(error) : resolve(count))))) === 0, 'the client connections to close');
});
