#!/usr/bin/env node
// s3rver (npm, MIT; TEST EQUIPMENT: a small S3 server, not a production
// store) with its bucket events delivered as S3 delivers them to a webhook.
//
// s3rver has no notification targets: it emits each event in-process, on
// its `event` emitter, in the S3 record shape. This launcher runs s3rver in
// its own process and POSTs every ObjectCreated:* record of the buckets
// named by --forward-bucket, as a notification of one record, to --webhook
// (rcuda-faas-events, which puts it on the queue): the event reaches the
// queue within milliseconds of the upload, where rcuda-faas-watcher would
// find it only at its next listing.
//
//   node --openssl-legacy-provider s3rver_events.js --s3rver-dir DIR --directory DATA
//        [--address 127.0.0.1] [--port 0] [--bucket NAME]... (created at start)
//        [--webhook URL --forward-bucket NAME...] [--event-log FILE]
//
// DIR is where faas/testing/s3rver/install.sh installed s3rver. Prints
// "S3rver listening on ADDRESS:PORT" when ready. Delivery is at-least-once
// and in order: a POST that fails (no answer, or not 2xx) is sent again
// after a backoff (100 ms doubling to 2 s), nothing is dropped.
// --event-log gets one JSON line per event of any bucket, written before
// s3rver answers the request: {"t": unix ms when s3rver emitted it (after
// storing the object), "event", "bucket", "key", "size"} (the benchmark
// reads when outputs appeared from it).
// SIGTERM/SIGINT: stop listening, exit.
'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');

function usage(message) {
  console.error(`s3rver_events: ${message}`);
  process.exit(2);
}

function parseArgs(argv) {
  const options = { address: '127.0.0.1', port: 0, buckets: [], forward: new Set() };
  const single = { '--s3rver-dir': 's3rverDir', '--directory': 'directory', '--address': 'address',
                   '--port': 'port', '--webhook': 'webhook', '--event-log': 'eventLog' };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i];
    const value = argv[i + 1];
    if (value === undefined) usage(`${name} needs a value`);
    if (single[name]) options[single[name]] = value;
    else if (name === '--bucket') options.buckets.push(value);
    else if (name === '--forward-bucket') options.forward.add(value);
    else usage(`unknown option ${name}`);
    i++;
  }
  if (!options.s3rverDir || !options.directory) usage('--s3rver-dir and --directory are required');
  if (options.forward.size && !options.webhook) usage('--forward-bucket needs --webhook');
  options.port = Number(options.port);
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) usage('bad --port');
  return options;
}

// S3 URL-encodes the key in its notifications (a space as '+'); s3rver's
// record carries it raw.
function encodeKey(key) {
  return encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
}

// Sends notifications one after another, in order; retries each until the
// webhook answers 2xx.
class Forwarder {
  constructor(url) {
    this.url = new URL(url);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    this.pending = [];
    this.busy = false;
    this.failures = 0;
    this.sent = 0;
  }

  push(notification) {
    this.pending.push(JSON.stringify(notification));
    this.pump();
  }

  pump() {
    if (this.busy || this.pending.length === 0) return;
    this.busy = true;
    const body = this.pending[0];
    const retry = (why) => {
      const delay = Math.min(2000, 100 * 2 ** Math.min(this.failures, 5));
      if (this.failures++ % 20 === 0) console.error(`s3rver_events: webhook: ${why}; retrying in ${delay} ms`);
      setTimeout(() => { this.busy = false; this.pump(); }, delay);
    };
    const request = http.request(this.url, {
      method: 'POST', agent: this.agent,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
    }, (response) => {
      response.resume();
      response.on('end', () => {
        if (response.statusCode < 200 || response.statusCode >= 300) return retry(`HTTP ${response.statusCode}`);
        this.pending.shift();
        this.failures = 0;
        this.sent++;
        this.busy = false;
        this.pump();
      });
    });
    request.setTimeout(10000, () => request.destroy(new Error('no answer in 10 s')));
    request.on('error', (error) => retry(error.message));
    request.end(body);
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const S3rver = require(path.join(options.s3rverDir, 'node_modules', 's3rver'));
  fs.mkdirSync(options.directory, { recursive: true });
  const server = new S3rver({
    directory: options.directory, address: options.address, port: options.port, silent: true,
    configureBuckets: options.buckets.map((name) => ({ name, configs: [] })),
  });
  const forwarder = options.webhook ? new Forwarder(options.webhook) : null;
  // Written synchronously, before s3rver answers the request that made the
  // event: once an upload is answered, its line is in the file.
  const log = options.eventLog ? fs.openSync(options.eventLog, 'a') : null;
  server.on('event', (event) => {
    const t = Date.now();
    for (const record of event.Records || []) {
      const bucket = record.s3.bucket.name;
      const key = record.s3.object.key;
      if (log !== null) {
        fs.writeSync(log, JSON.stringify({ t, event: record.eventName, bucket, key, size: record.s3.object.size }) + '\n');
      }
      if (forwarder && options.forward.has(bucket) && record.eventName.startsWith('ObjectCreated:')) {
        const copy = JSON.parse(JSON.stringify(record));
        copy.s3.object.key = encodeKey(key);
        forwarder.push({ Records: [copy] });
      }
    }
  });
  const { address, port } = await server.run();
  console.log('S3rver listening on %s:%d', address, port);
  const stop = () => {
    if (forwarder && forwarder.pending.length) {
      console.error(`s3rver_events: ${forwarder.pending.length} event(s) not delivered at exit`);
    }
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
