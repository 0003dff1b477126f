/**
 * `npm run relay -- [--port 8889] name=rtsp://… [name=rtsp://…]`: serves each RTSP camera over WHEP at
 * `http://127.0.0.1:{port}/{name}/whep` (MediaMTX's scheme) until interrupted. Needs ffmpeg on PATH (or FFMPEG).
 */
import { startRelay } from './relay.ts';

const USAGE = 'usage: npm run relay -- [--port 8889] [--quiet] name=rtsp://host:port/path [name=rtsp://…]';

function parse(argv: readonly string[]): { port: number; quiet: boolean; cameras: Record<string, string> } {
  let port = 8889;
  let quiet = false;
  const cameras: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--port' || arg.startsWith('--port=')) {
      const value = arg.includes('=') ? arg.slice('--port='.length) : argv[++i];
      port = Number(value);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`--port must be an integer in [0, 65535], got ${JSON.stringify(value)}`);
    } else if (arg === '--quiet') quiet = true;
    else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else {
      const eq = arg.indexOf('=');
      if (eq <= 0) throw new TypeError(`expected name=rtsp://…, got ${JSON.stringify(arg)}`);
      cameras[arg.slice(0, eq)] = arg.slice(eq + 1);
    }
  }
  if (Object.keys(cameras).length === 0) throw new TypeError('name at least one camera');
  return { port, quiet, cameras };
}

async function main(): Promise<void> {
  let args;
  try {
    args = parse(process.argv.slice(2));
  } catch (error) {
    console.error(`relay: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    process.exit(2);
  }
  const relay = await startRelay({
    port: args.port,
    cameras: args.cameras,
    ffmpegPath: process.env.FFMPEG,
    log: args.quiet ? undefined : (line) => console.error(`relay: ${line}`),
  });
  for (const name of Object.keys(args.cameras)) console.log(`${name}: ${relay.url(name)}  (from ${args.cameras[name]})`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(1); // a second Ctrl-C: don't wait
    stopping = true;
    relay.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(`relay: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
