/**
 * A tiny WebSocket server that receives what framewise's WebSocketSink sends, for the README example and tests.
 *
 *   npx tsx tools/ws-receiver.ts --port 8765 [--out predictions.jsonl] [--images ./frames] [--quiet]
 *
 * Binds 127.0.0.1 only. Prints one line per prediction message (source, frame, detections, latency), or with
 * `--out` appends each JSON message as one line to the file. With `--images DIR`, the JPEG binary message that
 * follows a JSON message announcing `inference_metadata.image` is saved as `DIR/<source>-<frame>.jpg`.
 * Stop with Ctrl-C; it prints a summary.
 */
import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';

/** One prediction message as the sink sends it (only the keys this tool reads are typed). */
export interface ReceivedPrediction {
  predictions?: Array<{ class?: string; confidence?: number }>;
  inference_metadata?: {
    source_id?: number;
    frame_id?: number;
    frame_decoding_time?: string;
    emission_time?: string;
    image?: { type: string; bytes: number };
  };
  [key: string]: unknown;
}

export interface ReceiverOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Interface to bind. Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Called for every JSON message, with the parsed object and the raw text. */
  onPrediction?: (message: ReceivedPrediction, text: string, client: number) => void;
  /** Called for every binary message (a JPEG), with the JSON message it belongs to (if announced). */
  onImage?: (bytes: Buffer, owner: ReceivedPrediction | undefined, client: number) => void;
  /** Called when a client connects or disconnects. */
  onConnection?: (event: 'open' | 'close', client: number) => void;
}

export interface Receiver {
  /** The port actually bound. */
  port: number;
  /** Clients connected now. */
  readonly clients: ReadonlySet<WebSocket>;
  /** Stops listening and closes every client (code 1001). */
  close(): Promise<void>;
  /** Drops every client at once without a closing handshake (as a crash would) and stops listening. */
  kill(): Promise<void>;
}

/** Starts a receiver; resolves once it listens. */
export function startReceiver(options: ReceiverOptions): Promise<Receiver> {
  const host = options.host ?? '127.0.0.1';
  const server = new WebSocketServer({ port: options.port, host });
  let nextClient = 1;
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : options.port;
      const stop = (how: 'close' | 'kill'): Promise<void> =>
        new Promise((done) => {
          for (const client of server.clients) {
            if (how === 'kill') client.terminate();
            else client.close(1001, 'receiver stopping');
          }
          server.close(() => done());
        });
      resolvePromise({ port, clients: server.clients, close: () => stop('close'), kill: () => stop('kill') });
    });
    server.on('connection', (socket) => {
      const client = nextClient++;
      let announced: ReceivedPrediction | undefined;
      options.onConnection?.('open', client);
      socket.on('close', () => options.onConnection?.('close', client));
      socket.on('message', (data: RawData, isBinary: boolean) => {
        const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
        if (isBinary) {
          options.onImage?.(bytes, announced, client);
          announced = undefined;
          return;
        }
        const text = bytes.toString('utf8');
        let message: ReceivedPrediction;
        try {
          message = JSON.parse(text) as ReceivedPrediction;
        } catch {
          console.error(`client ${client}: a text message that is not JSON (${text.length} chars)`);
          return;
        }
        announced = message.inference_metadata?.image ? message : undefined;
        options.onPrediction?.(message, text, client);
      });
    });
  });
}

interface CliOptions {
  port: number;
  out?: string;
  images?: string;
  quiet: boolean;
}

function parseArgs(argv: string[]): CliOptions {
  const options: CliOptions = { port: 8765, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--port') {
      options.port = Number(value());
      if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) throw new Error(`--port must be an integer in 0..65535`);
    } else if (arg === '--out') options.out = value();
    else if (arg === '--images') options.images = value();
    else if (arg === '--quiet') options.quiet = true;
    else if (arg === '--help' || arg === '-h') {
      console.log('usage: npx tsx tools/ws-receiver.ts --port 8765 [--out predictions.jsonl] [--images DIR] [--quiet]');
      process.exit(0);
    } else throw new Error(`unknown argument ${arg} (try --help)`);
  }
  return options;
}

async function main(): Promise<void> {
  const cli = parseArgs(process.argv.slice(2));
  let out: WriteStream | undefined;
  if (cli.out) out = createWriteStream(resolve(cli.out), { flags: 'a' });
  if (cli.images) mkdirSync(resolve(cli.images), { recursive: true });
  let messages = 0;
  let images = 0;
  const receiver = await startReceiver({
    port: cli.port,
    onConnection: (event, client) => console.log(`client ${client} ${event === 'open' ? 'connected' : 'disconnected'}`),
    onPrediction: (message, text) => {
      messages += 1;
      out?.write(`${text}\n`);
      if (cli.quiet) return;
      const m = message.inference_metadata ?? {};
      const detections = (message.predictions ?? []).map((p) => `${p.class ?? '?'} ${((p.confidence ?? 0) * 100).toFixed(0)}%`).join(', ');
      const latency = m.emission_time && m.frame_decoding_time ? `${Date.parse(m.emission_time) - Date.parse(m.frame_decoding_time)} ms after grab` : '';
      console.log(`source ${m.source_id ?? '?'} frame ${m.frame_id ?? '?'}: ${detections || 'no detections'}${latency ? ` (${latency})` : ''}`);
    },
    onImage: (bytes, owner) => {
      images += 1;
      if (!cli.images) return;
      const m = owner?.inference_metadata;
      const name = m ? `${m.source_id ?? 0}-${m.frame_id ?? images}.jpg` : `image-${images}.jpg`;
      writeFileSync(join(resolve(cli.images), name), bytes);
    },
  });
  console.log(`listening on ws://127.0.0.1:${receiver.port}${cli.out ? `, appending to ${cli.out}` : ''}`);
  const shutdown = (): void => {
    console.log(`\n${messages} prediction message(s), ${images} image(s) received`);
    void receiver.close().then(() => out?.end(() => process.exit(0)) ?? process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
