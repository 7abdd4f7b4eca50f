#!/usr/bin/env node
// HTTP/2 (h2c, prior knowledge) and gRPC peers for the waypoint tests, built only on Node's own `http2` and `net`.
//
//   node h2-peer.js server --host 127.0.18.2 --port 0 --name v1
//       Prints "READY <port>". Plain requests get 200 and JSON {server, path, method, protocol}. Requests with
//       content-type application/grpc get one gRPC message back (the request's message, prefixed with the
//       server's name) and trailers grpc-status: 0.
//   node h2-peer.js client --socks 127.0.18.1:15080 --target 10.96.18.20:80 --path /x [--grpc MESSAGE]
//       Opens the TCP connection through a SOCKS5 CONNECT (the Weft node's entry), speaks h2c on it, sends one
//       request, and prints JSON {status, headers, body, trailers, error}.
'use strict';

const http2 = require('http2');
const net = require('net');

function args(argv) {
  const opts = {};
  for (let i = 3; i < argv.length; i += 2) opts[argv[i].replace(/^--/, '')] = argv[i + 1];
  return opts;
}

function grpcFrame(payload) {
  const head = Buffer.alloc(5);
  head.writeUInt8(0, 0);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

function server(opts) {
  const srv = http2.createServer();
  srv.on('stream', (stream, headers) => {
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      if ((headers['content-type'] || '').startsWith('application/grpc')) {
        const message = body.length >= 5 ? body.subarray(5, 5 + body.readUInt32BE(1)) : Buffer.alloc(0);
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'OK' }));
        stream.end(grpcFrame(Buffer.from(`${opts.name}:${message.toString()}`)));
      } else {
        stream.respond({ ':status': 200, 'content-type': 'application/json', 'x-served-by': opts.name });
        stream.end(JSON.stringify({ server: opts.name, path: headers[':path'], method: headers[':method'], protocol: 'h2' }));
      }
    });
  });
  srv.listen(Number(opts.port || 0), opts.host, () => console.log(`READY ${srv.address().port}`));
}

function socksConnect(proxy, target) {
  return new Promise((resolve, reject) => {
    const [phost, pport] = proxy.split(':');
    const [thost, tport] = target.split(':');
    const socket = net.connect({ host: phost, port: Number(pport), localAddress: phost });
    let stage = 0;
    let buf = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('connect', () => socket.write(Buffer.from([5, 1, 0])));
    const onData = (data) => {
      buf = Buffer.concat([buf, data]);
      if (stage === 0 && buf.length >= 2) {
        buf = buf.subarray(2);
        stage = 1;
        const ip = thost.split('.').map(Number);
        const req = Buffer.from([5, 1, 0, 1, ...ip, Number(tport) >> 8, Number(tport) & 255]);
        socket.write(req);
      }
      if (stage === 1 && buf.length >= 10) {
        socket.removeListener('data', onData);
        socket.pause();  // nothing may be read (and lost) until the relay pipes it on
        if (buf[1] !== 0) return reject(new Error(`SOCKS reply ${buf[1]}`));
        // The server may speak first (HTTP/2 SETTINGS): bytes after the reply belong to the session.
        resolve({ socket, leftover: buf.subarray(10) });
      }
    };
    socket.on('data', onData);
  });
}

async function client(opts) {
  const out = { status: null, headers: {}, body: '', trailers: {}, error: null };
  try {
    // Node's http2 reads its socket below the stream API, so bytes already read during the SOCKS handshake could
    // not be handed back; a local relay forwards them instead.
    const { socket, leftover } = await socksConnect(opts.socks, opts.target);
    const relay = net.createServer((local) => {
      if (leftover.length) local.write(leftover);
      local.pipe(socket);
      socket.pipe(local);
      local.on('error', () => socket.destroy());
      socket.on('error', () => local.destroy());
    });
    await new Promise((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const session = http2.connect(`http://127.0.0.1:${relay.address().port}`);
    session.on('close', () => relay.close());
    session.on('error', (e) => { out.error = String(e); });
    const grpc = opts.grpc !== undefined;
    const headers = { ':method': grpc ? 'POST' : 'GET', ':path': opts.path || '/' };
    if (grpc) { headers['content-type'] = 'application/grpc'; headers.te = 'trailers'; }
    const req = session.request(headers);
    const chunks = [];
    req.on('response', (h) => { out.status = h[':status']; out.headers = h; });
    req.on('trailers', (t) => { out.trailers = t; });
    req.on('data', (c) => chunks.push(c));
    await new Promise((resolve) => {
      req.on('close', resolve);
      req.on('error', (e) => { out.error = String(e); resolve(); });
      req.end(grpc ? grpcFrame(Buffer.from(opts.grpc)) : undefined);
    });
    const body = Buffer.concat(chunks);
    out.body = grpc && body.length >= 5 ? body.subarray(5, 5 + body.readUInt32BE(1)).toString() : body.toString();
    session.close();
  } catch (e) {
    out.error = String(e);
  }
  console.log(JSON.stringify(out));
}

const mode = process.argv[2];
if (mode === 'server') server(args(process.argv));
else client(args(process.argv)).then(() => process.exit(0));
