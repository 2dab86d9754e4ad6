// bapi-mcp's stdio transport: newline-delimited JSON-RPC, as MCP's stdio transport specifies, with a
// bound on one message. The SDK's transport closes the connection on a message over its buffer size,
// and the host loses the server; here an oversized or unreadable message is answered with a JSON-RPC
// error (the request's id where it can be read) and the server keeps serving.
import { isObject } from '../core/values.js';
import { ERRORS, type Message } from './protocol.js';

/** The largest message read, in bytes: a tool call's body is far smaller. */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

// Where a message names its id: near its start, as clients write it.
const ID = /"id"\s*:\s*("(?:[^"\\]|\\.){0,200}"|-?\d{1,16})/;

/** A JSON-RPC 2.0 request, notification or response (its shape only; the protocol layer reads the rest). */
function isMessage(value: unknown): value is Message {
  if (!isObject(value)) return false;
  const message = value;
  if (message.jsonrpc !== '2.0') return false;
  const id = message.id;
  const idOk = id === undefined || id === null || typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));
  if (!idOk) return false;
  if (typeof message.method === 'string') return message.params === undefined || isObject(message.params);
  return id !== undefined && ('result' in message || 'error' in message);
}

export class BoundedStdioTransport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: Message) => void;
  private chunks: Buffer[] = [];
  private size = 0;
  /** The first bytes of a line being dropped for its size, to find its id in. */
  private dropping: Buffer | null = null;
  private closed = false;

  constructor(
    private readonly input: NodeJS.ReadableStream = process.stdin,
    private readonly output: NodeJS.WritableStream = process.stdout,
    private readonly maxBytes = MAX_MESSAGE_BYTES,
  ) {}

  async start(): Promise<void> {
    this.input.on('data', this.onData);
    this.input.on('end', this.onEnd);
    this.input.on('error', this.onInputError);
  }

  async send(message: Message): Promise<void> {
    if (this.closed) return;
    if (!this.output.write(`${JSON.stringify(message)}\n`)) await new Promise<void>((resolve) => this.output.once('drain', resolve));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.input.off('data', this.onData);
    this.input.off('end', this.onEnd);
    this.input.off('error', this.onInputError);
    this.input.pause();
    this.chunks = [];
    this.onclose?.();
  }

  private readonly onEnd = () => void this.close();
  private readonly onInputError = (error: Error) => this.onerror?.(error);

  private readonly onData = (chunk: Buffer) => {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(10, start);
      const piece = chunk.subarray(start, newline === -1 ? chunk.length : newline);
      if (this.dropping === null && this.size + piece.length > this.maxBytes) {
        this.dropping = Buffer.concat([...this.chunks, piece], Math.min(this.size + piece.length, 1024));
        this.chunks = [];
        this.size = 0;
      } else if (this.dropping === null) {
        this.chunks.push(piece);
        this.size += piece.length;
      }
      if (newline === -1) return;
      start = newline + 1;
      if (this.dropping !== null) {
        const id = idOf(this.dropping.toString('utf8'));
        this.dropping = null;
        void this.reply(id, ERRORS.invalidRequest, `message larger than ${this.maxBytes / 1024 / 1024} MB: not read; send a smaller one`);
        continue;
      }
      const line = Buffer.concat(this.chunks, this.size).toString('utf8').replace(/\r$/, '');
      this.chunks = [];
      this.size = 0;
      this.handle(line);
    }
  };

  private handle(line: string): void {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      void this.reply(idOf(line.slice(0, 1024)), ERRORS.parse, 'not JSON: each message is one line of JSON');
      return;
    }
    if (!isMessage(value)) {
      void this.reply(idOf(line.slice(0, 1024)), ERRORS.invalidRequest, 'not a JSON-RPC 2.0 message');
      return;
    }
    this.onmessage?.(value);
  }

  private async reply(id: string | number | null, code: number, message: string): Promise<void> {
    // JSON-RPC: an error answer carries the request's id, or null when it could not be read.
    await this.send({ jsonrpc: '2.0', id, error: { code, message } });
  }
}

function idOf(text: string): string | number | null {
  const found = ID.exec(text)?.[1];
  if (found === undefined) return null;
  try {
    return JSON.parse(found) as string | number;
  } catch {
    return null;
  }
}
