// bapi-webhooks' HTTP/1.1 POST (lib/http/post-once.ts), in process: what an app receives, answers by
// length, by chunks and up to the close, interim 1xx answers, an answer split over many reads, and
// the failures: no answer in time, a connection closed mid-answer, something that is not HTTP; over
// https, a certificate Node does not trust is refused, and one it trusts (NODE_EXTRA_CA_CERTS, for the
// built command) is answered.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createServer as createTlsServer } from 'node:tls';
import { parseAnswer, postOnce } from '../lib/http/post-once.js';
import { cleanEnv, runCli, tempDir } from './helpers/run-cli.js';

/** A TCP server whose every connection is handed to `serve`; its URL, and a way to stop it. */
async function rawServer(serve: (socket: Socket, request: Promise<string>) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    let text = '';
    const request = new Promise<string>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
        const head = text.indexOf('\r\n\r\n');
        const length = Number(/content-length: (\d+)/i.exec(text)?.[1] ?? 0);
        if (head >= 0 && Buffer.byteLength(text) >= Buffer.byteLength(text.slice(0, head + 4)) + length) resolve(text);
      });
    });
    serve(socket, request);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const answer = (text: string, closed = false) => parseAnswer(Buffer.from(text, 'latin1'), closed);

describe('postOnce', () => {
  it('parses answers by length, by chunks, up to the close, after 1xx; incomplete ones wait', () => {
    assert.deepEqual(answer('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello'), { status: 200, headers: { 'content-length': '5', 'x-a': 'b' }, body: 'hello' });
    assert.equal(answer('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel'), null);
    assert.equal(answer('HTTP/1.1 200 OK\r\nContent-Le'), null);
    assert.equal(answer('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n\r\n')?.body, 'hello world');
    assert.equal(answer('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n'), null);
    assert.deepEqual(answer('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok'), { status: 201, headers: { 'content-length': '2' }, body: 'ok' });
    assert.deepEqual(answer('HTTP/1.1 204 No Content\r\n\r\n'), { status: 204, headers: {}, body: '' });
    assert.equal(answer('HTTP/1.0 500 Oops\r\n\r\nall of it'), null, 'without a length the body ends with the connection');
    assert.equal(answer('HTTP/1.0 500 Oops\r\n\r\nall of it', true)?.body, 'all of it');
    assert.equal(answer('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n\xc3\xa9')?.body, 'é', 'the body is UTF-8');
    assert.throws(() => answer('SSH-2.0-OpenSSH\r\n\r\n'), /not an HTTP\/1\.1 answer/);
    assert.throws(() => answer('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'), /bad chunk size/);
    assert.throws(() => answer('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'), /bad content-length/);
  });

  it('sends one exact request, and reads an answer that comes in many pieces', async () => {
    const body = JSON.stringify({ type: 'user.created', data: { first_name: 'Zoë' } });
    let seen = '';
    const server = await rawServer((socket, request) => {
      void request.then(async (text) => {
        seen = text;
        const reply = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n';
        for (const piece of reply.match(/[^]{1,7}/g)!) {
          socket.write(piece);
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        socket.end();
      });
    });
    try {
      const got = await postOnce(new URL(`${server.url}/api/webhooks?x=1`), { 'content-type': 'application/json', 'svix-id': 'msg_1' }, body, 5000);
      assert.deepEqual({ status: got.status, body: got.body }, { status: 200, body: 'abcdefg' });
      const [head, sent] = seen.split('\r\n\r\n') as [string, string];
      const lines = head.split('\r\n');
      assert.equal(lines[0], 'POST /api/webhooks?x=1 HTTP/1.1');
      assert.ok(lines.includes(`host: ${new URL(server.url).host}`), head);
      assert.ok(lines.includes(`content-length: ${Buffer.byteLength(body)}`), head);
      assert.ok(lines.includes('svix-id: msg_1') && lines.includes('connection: close'), head);
      assert.equal(sent, body);
    } finally {
      await server.close();
    }
  });

  it("reads Node's own server: a chunked answer, and an empty one", async () => {
    const server = createHttpServer((req, res) => {
      req.resume().on('end', () => {
        if (req.url === '/empty') return res.writeHead(204).end();
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.write('invalid ');
        res.end('signature');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      assert.deepEqual(await postOnce(new URL(`${base}/hook`), {}, '{}', 5000).then((a) => [a.status, a.body]), [400, 'invalid signature']);
      assert.deepEqual(await postOnce(new URL(`${base}/empty`), {}, '{}', 5000).then((a) => [a.status, a.body]), [204, '']);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('fails with a reason: no answer in time, a connection closed mid-answer, not HTTP, nobody listening', async () => {
    const silent = await rawServer(() => {});
    const short = await rawServer((socket, request) => void request.then(() => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc')));
    const other = await rawServer((socket, request) => void request.then(() => socket.end('SSH-2.0-OpenSSH_9.6\r\n\r\n')));
    try {
      await assert.rejects(postOnce(new URL(silent.url), {}, '{}', 150), /no answer from http:\/\/127\.0\.0\.1:\d+ within 0\.15 s/);
      await assert.rejects(postOnce(new URL(short.url), {}, '{}', 5000), /closed the connection before a whole answer/);
      await assert.rejects(postOnce(new URL(other.url), {}, '{}', 5000), /not an HTTP\/1\.1 answer/);
    } finally {
      await Promise.all([silent.close(), short.close(), other.close()]);
    }
    await assert.rejects(postOnce(new URL(silent.url), {}, '{}', 5000), /ECONNREFUSED/);
  });

  it('https: a certificate Node does not trust is refused; with its CA trusted, the built trigger is answered', async () => {
    const dir = tempDir('post-once-tls-');
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
    const server = createTlsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (socket) => {
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes('\r\n\r\n{')) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nhello, https\n');
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as { port: number }).port;
    try {
      await assert.rejects(postOnce(new URL(`https://localhost:${port}/hook`), {}, '{}', 5000), /self[- ]signed certificate/);
      const payload = join(dir, 'payload.json');
      writeFileSync(payload, JSON.stringify({ type: 'user.deleted', object: 'event', data: { id: 'user_1', deleted: true } }));
      const secret = `whsec_${randomBytes(32).toString('base64')}`;
      const sent = await runCli('bapi-webhooks', ['trigger', '--data', `@${payload}`, '--url', `https://localhost:${port}/hook`, '--secret', secret], { env: cleanEnv({ NODE_EXTRA_CA_CERTS: cert }) });
      assert.equal(sent.exitCode, 0, sent.stderr);
      assert.equal(sent.stdout, 'hello, https\n');
      assert.match(sent.stderr, /user\.deleted → POST https:\/\/localhost:\d+\/hook: 200/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
