#!/usr/bin/env node
// An independent HBONE client for interoperability tests, built only on Node's own `tls` and `http2`.
//
//   node hbone-client.js --host 127.0.12.2 [--port 15008] --authority 127.0.12.2:9000 \
//        --cert cert.pem --key key.pem --ca ca.pem [--method CONNECT] [--data TEXT | --data-base64 B64] \
//        [--expect-san spiffe://cluster.local/ns/demo/sa/echo] [--timeout-ms 15000] [--close-wait-ms 300]
//
// Opens a TLS 1.3 connection with ALPN h2 and the given client certificate, checks that the server presents the
// expected SPIFFE URI SAN, sends one request (CONNECT by default) with the given :authority, writes the data,
// ends the stream, and collects whatever comes back until the server ends its side.
// Prints one JSON line on stdout (body = the echoed bytes):
//   {"status":200,"body":"...","bodyBase64":"...","error":null,"alpn":"h2","peerSAN":"URI:spiffe://..."}
// Exit code: 0 when a response was received (whatever its status), 1 on a connection/TLS/protocol error.

'use strict';

const fs = require('fs');
const http2 = require('http2');
const tls = require('tls');

function parseArgs(argv) {
  const opts = { port: 15008, method: 'CONNECT', data: Buffer.alloc(0), timeoutMs: 15000, closeWaitMs: 300 };
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`missing value for ${key}`);
    switch (key) {
      case '--host': opts.host = value; break;
      case '--port': opts.port = Number(value); break;
      case '--authority': opts.authority = value; break;
      case '--method': opts.method = value; break;
      case '--cert': opts.cert = fs.readFileSync(value); break;
      case '--key': opts.key = fs.readFileSync(value); break;
      case '--ca': opts.ca = fs.readFileSync(value); break;
      case '--data': opts.data = Buffer.from(value, 'utf8'); break;
      case '--data-base64': opts.data = Buffer.from(value, 'base64'); break;
      case '--expect-san': opts.expectSAN = value; break;
      case '--timeout-ms': opts.timeoutMs = Number(value); break;
      case '--close-wait-ms': opts.closeWaitMs = Number(value); break;
      default: throw new Error(`unknown option ${key}`);
    }
  }
  for (const required of ['host', 'authority', 'cert', 'key', 'ca']) {
    if (opts[required] === undefined) throw new Error(`--${required} is required`);
  }
  return opts;
}

const opts = parseArgs(process.argv);
const result = {
  status: null, body: '', bodyBase64: '', error: null, alpn: null, peerSAN: null, localPort: null, serverClosedMs: null,
};
const chunks = [];
let finished = false;
let session;
let rawSocket;

function finish(error) {
  if (finished) return;
  finished = true;
  clearTimeout(timer);
  if (error) result.error = String(error && error.message ? error.message : error);
  const body = Buffer.concat(chunks);
  result.body = body.toString('utf8');
  result.bodyBase64 = body.toString('base64');
  // Close politely: GOAWAY, TLS close_notify, TCP FIN; then wait (up to --close-wait-ms) for the server to close
  // its side too. serverClosedMs says how long that took (null: it did not within the wait).
  const closeStarted = Date.now();
  let printed = false;
  const done = () => {
    if (printed) return;
    printed = true;
    process.stdout.write(JSON.stringify(result) + '\n');
    process.exitCode = result.status === null ? 1 : 0;
    process.exit();
  };
  const sock = session && session.socket;
  if (!sock || sock.destroyed) return done();
  // session.socket is a proxy; listen on the real socket for its close.
  rawSocket.once('close', () => { result.serverClosedMs = Date.now() - closeStarted; done(); });
  setTimeout(done, opts.closeWaitMs).unref();
  session.close();
}

const timer = setTimeout(() => finish(new Error(`timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs);

function checkServerIdentity(_host, cert) {
  // The server is identified by its SPIFFE ID, not by a DNS name or IP: compare the URI SAN only.
  result.peerSAN = cert.subjectaltname || null;
  if (!opts.expectSAN) return undefined;
  const uris = (cert.subjectaltname || '').split(/,\s*/).filter((s) => s.startsWith('URI:')).map((s) => s.slice(4));
  if (uris.length === 1 && uris[0] === opts.expectSAN) return undefined;
  return new Error(`server SAN ${cert.subjectaltname} is not URI:${opts.expectSAN}`);
}

session = http2.connect(`https://${opts.host}:${opts.port}`, {
  createConnection: () => {
    const socket = tls.connect({
      host: opts.host,
      port: opts.port,
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
      minVersion: 'TLSv1.3',
      ALPNProtocols: ['h2'],
      checkServerIdentity,
    });
    rawSocket = socket;
    socket.on('connect', () => { result.localPort = socket.localPort; });
    socket.on('secureConnect', () => { result.alpn = socket.alpnProtocol || null; });
    return socket;
  },
});
session.on('error', (err) => finish(err));

const headers = { ':method': opts.method, ':authority': opts.authority };
if (opts.method !== 'CONNECT') {
  headers[':scheme'] = 'https';
  headers[':path'] = '/';
}
const isConnect = opts.method === 'CONNECT';
const req = session.request(headers, { endStream: !isConnect });

req.on('response', (h) => {
  result.status = Number(h[':status']);
  if (isConnect && result.status === 200) {
    // The tunnel is up: send the payload and half-close (END_STREAM → the destination sees FIN).
    req.end(opts.data);
  }
});
req.on('data', (chunk) => chunks.push(chunk));
req.on('end', () => finish(null));
req.on('close', () => {
  if (!finished) {
    if (result.status !== null) finish(null);
    else finish(new Error(`stream closed without a response (rst code ${req.rstCode})`));
  }
});
req.on('error', (err) => {
  // A stream reset after a complete non-200 response is expected; keep the response.
  if (result.status !== null && result.status !== 200) finish(null);
  else finish(err);
});
