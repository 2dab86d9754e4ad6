// One HTTP/1.1 POST on a connection of its own (`connection: close`), read whole: what a webhook
// trigger needs. Loading node:http costs a command ~4 ms of start-up here, more than the rest of a
// trigger's own work; this is a socket (node:net, or node:tls for https with Node's certificate and
// host-name checks), a request written at once, and a parser for the answer: a status line, headers,
// then a body by content-length, by chunks, or up to the close. Interim answers (1xx) are skipped.
import type { Socket } from 'node:net';

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A body this large is not an answer to a webhook: the read stops there. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

export async function postOnce(target: URL, headers: Record<string, string>, body: string, timeoutMs: number): Promise<Answer> {
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
  const secure = target.protocol === 'https:';
  const port = Number(target.port || (secure ? 443 : 80));
  const socket: Socket = secure ? (await import('node:tls')).connect({ host, port, servername: /^[\d.:]+$/.test(host) ? undefined : host }) : (await import('node:net')).connect({ host, port });
  const lines = [`POST ${target.pathname}${target.search} HTTP/1.1`, `host: ${target.host}`, 'connection: close', `content-length: ${Buffer.byteLength(body)}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
  return new Promise((resolve, reject) => {
    // Grown by doubling: an answer in many small reads is copied a few times, not once per read.
    let received = Buffer.allocUnsafe(16 * 1024);
    let length = 0;
    let settled = false;
    const settle = (error: Error | null, answer?: Answer) => {
      if (settled) return;
      settled = true;
      socket.setTimeout(0);
      if (error) {
        socket.destroy();
        reject(error);
      } else {
        // An answer in hand: the app closes the connection (connection: close), which no longer holds the process.
        socket.unref();
        resolve(answer as Answer);
      }
    };
    socket.setTimeout(timeoutMs, () => settle(new Error(`no answer from ${target.origin} within ${timeoutMs / 1000} s`)));
    socket.on('error', (error) => settle(error));
    socket.on('data', (chunk: Buffer) => {
      if (length + chunk.length > MAX_ANSWER_BYTES) return settle(new Error(`the answer from ${target.origin} is over ${MAX_ANSWER_BYTES / 1024 / 1024} MB`));
      if (length + chunk.length > received.length) {
        const grown = Buffer.allocUnsafe(Math.max(received.length * 2, length + chunk.length));
        received.copy(grown, 0, 0, length);
        received = grown;
      }
      length += chunk.copy(received, length);
      try {
        const answer = parseAnswer(received.subarray(0, length), false);
        if (answer) settle(null, answer);
      } catch (error) {
        settle(error as Error);
      }
    });
    socket.on('end', () => {
      try {
        const answer = parseAnswer(received.subarray(0, length), true);
        settle(answer ? null : new Error(`${target.origin} closed the connection before a whole answer`), answer ?? undefined);
      } catch (error) {
        settle(error as Error);
      }
    });
  });
}

/** The final answer in `bytes`, or null while it is incomplete (`closed`: nothing more will come). */
export function parseAnswer(bytes: Buffer, closed: boolean): Answer | null {
  let start = 0;
  for (;;) {
    const end = bytes.indexOf('\r\n\r\n', start);
    if (end < 0) return null;
    const [statusLine = '', ...fields] = bytes.toString('latin1', start, end).split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine);
    if (!status) throw new Error(`not an HTTP/1.1 answer: ${JSON.stringify(statusLine.slice(0, 60))}`);
    const code = Number(status[1]);
    const headers: Record<string, string> = {};
    for (const field of fields) {
      const colon = field.indexOf(':');
      if (colon > 0) headers[field.slice(0, colon).trim().toLowerCase()] = field.slice(colon + 1).trim();
    }
    start = end + 4;
    // 100 Continue, 103 Early Hints: the answer is still to come.
    if (code >= 100 && code < 200) continue;
    const rest = bytes.subarray(start);
    if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) {
      const body = dechunk(rest);
      return body === null ? null : { status: code, headers, body: body.toString('utf8') };
    }
    if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (!Number.isSafeInteger(length) || length < 0) throw new Error(`a bad content-length: ${headers['content-length']}`);
      return rest.length >= length ? { status: code, headers, body: rest.toString('utf8', 0, length) } : null;
    }
    // 204 and 304 have no body; any other answer without a length ends with the connection.
    if (code === 204 || code === 304) return { status: code, headers, body: '' };
    return closed ? { status: code, headers, body: rest.toString('utf8') } : null;
  }
}

/** A chunked body decoded, or null until its last chunk has come (trailers are not read). */
function dechunk(bytes: Buffer): Buffer | null {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', at);
    if (lineEnd < 0) return null;
    const sizeText = bytes.toString('latin1', at, lineEnd).split(';')[0]!.trim();
    if (!/^[0-9a-f]+$/i.test(sizeText)) throw new Error(`a bad chunk size: ${JSON.stringify(sizeText.slice(0, 20))}`);
    const size = parseInt(sizeText, 16);
    if (size === 0) return Buffer.concat(parts);
    if (bytes.length < lineEnd + 2 + size + 2) return null;
    parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}
