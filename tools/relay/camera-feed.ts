/**
 * One camera: a child ffmpeg pulls its RTSP stream and forwards the H.264 RTP packets, unchanged (`-c:v copy`),
 * to a UDP socket on 127.0.0.1. The feed fans the packets out to viewers and keeps the packets since the last
 * keyframe, so a new viewer can start decoding at once instead of waiting up to a GOP for the next keyframe
 * (a `-c copy` ffmpeg can't act on the browser's keyframe requests).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { inspectH264Payload, profileLevelId } from './h264.ts';

/** Where a feed is in its life. */
export type CameraFeedState = 'starting' | 'ready' | 'restarting' | 'stopped';

/** How to pull one camera. */
export interface CameraFeedOptions {
  /** The path in the relay's URLs (`/{name}/whep`). */
  name: string;
  /** The camera's `rtsp://` URL. */
  rtspUrl: string;
  /** The ffmpeg binary. Default `ffmpeg` on PATH. */
  ffmpegPath?: string;
  /** Diagnostics sink. */
  log: (line: string) => void;
}

/** A viewer's subscription: the packets to send first, and the call that ends it. */
export interface FeedSubscription {
  /** Serialized RTP packets since the last keyframe (SPS, PPS, IDR first), oldest first; a copy. */
  replay: Buffer[];
  /** Stops delivering packets to this viewer. Idempotent. */
  unsubscribe(): void;
}

/**
 * The most RTP packets kept for replay. One GOP of a 1080p camera at a few Mbit/s with 2 s between keyframes
 * is about 1,000 packets of 1,200 bytes; past this the buffer is dropped until the next keyframe rather than
 * grow without bound on a stream with very rare keyframes.
 */
const MAX_REPLAY_PACKETS = 4096;

/** A started ffmpeg that has delivered no keyframe after this long is killed and restarted. */
const START_STALL_MS = 8000;
/** ffmpeg restarts after it exits: first after 1 s, doubling up to this, reset once packets flow again. */
const MAX_RESTART_DELAY_MS = 10_000;

/** The payload of an RTP packet (after the fixed header, CSRCs and extension; without padding); undefined for RTCP. */
function rtpPayload(packet: Buffer): Buffer | undefined {
  if (packet.length < 12 || packet[0]! >> 6 !== 2) return undefined;
  // RTCP (sender reports, BYE) shares the socket: its packet types 192–223 sit where RTP has marker + payload type.
  if (packet[1]! >= 192 && packet[1]! <= 223) return undefined;
  let offset = 12 + (packet[0]! & 0x0f) * 4;
  if (packet[0]! & 0x10) {
    if (packet.length < offset + 4) return undefined;
    offset += 4 + packet.readUInt16BE(offset + 2) * 4;
  }
  let end = packet.length;
  if (packet[0]! & 0x20) end -= packet[packet.length - 1]!;
  return offset <= end ? packet.subarray(offset, end) : undefined;
}

/** A camera pulled by a child ffmpeg, fanned out to viewers. */
export class CameraFeed {
  private stateValue: CameraFeedState = 'starting';
  private socket?: Socket;
  private ffmpeg?: ChildProcess;
  private gop: Buffer[] = [];
  private gopTimestamp?: number;
  private readonly viewers = new Set<(packet: Buffer) => void>();
  private readonly readyWaiters = new Set<() => void>();
  private restartDelayMs = 1000;
  private restartTimer?: NodeJS.Timeout;
  private profile?: string;

  constructor(private readonly options: CameraFeedOptions) {}

  /** The feed's state: `ready` once a keyframe has arrived since ffmpeg (re)started. */
  get state(): CameraFeedState {
    return this.stateValue;
  }

  /** profile-level-id of the stream's SPS (e.g. `640028`), once seen. */
  get streamProfile(): string | undefined {
    return this.profile;
  }

  /** Binds the UDP socket on 127.0.0.1 and starts ffmpeg. Resolves once the socket listens. */
  async start(): Promise<void> {
    const socket = createSocket({ type: 'udp4' });
    this.socket = socket;
    socket.on('message', (packet) => this.onPacket(packet));
    socket.on('error', (error) => this.options.log(`${this.options.name}: UDP socket error: ${error.message}`));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    // A large receive buffer: a keyframe arrives as a burst of packets.
    try {
      socket.setRecvBufferSize(4 * 1024 * 1024);
    } catch {
      // The kernel may cap it; the default still works at test bitrates.
    }
    this.spawnFfmpeg();
  }

  private spawnFfmpeg(): void {
    if (this.stateValue === 'stopped' || !this.socket) return;
    const port = this.socket.address().port;
    const ffmpeg = this.options.ffmpegPath ?? 'ffmpeg';
    const args = [
      '-nostdin', '-hide_banner', '-loglevel', 'error',
      '-rtsp_transport', 'tcp', '-fflags', 'nobuffer', '-flags', 'low_delay',
      '-i', this.options.rtspUrl,
      '-an', '-c:v', 'copy', '-bsf:v', 'dump_extra',
      // connect=1: ffmpeg gets "connection refused" and exits about a second after nobody listens any more.
      // rtcpport: its RTCP reports come to the same socket (and are ignored); sent to port+1, where nobody
      // listens, they would make that "connection refused" kill ffmpeg every few seconds.
      '-f', 'rtp', `rtp://127.0.0.1:${port}?pkt_size=1200&connect=1&rtcpport=${port}`,
    ];
    // --pdeathsig KILL: the kernel kills ffmpeg when the relay dies, even by SIGKILL.
    const setpriv = existsSync('/usr/bin/setpriv');
    const child = setpriv
      ? spawn('/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', ffmpeg, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn(ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.ffmpeg = child;
    // An ffmpeg that connected but never delivers a keyframe (a camera still starting, a stuck RTSP session) does
    // not exit by itself: kill it, so the exit handler restarts it.
    const startWatchdog = setTimeout(() => {
      if (this.ffmpeg !== child || this.stateValue === 'ready' || this.stateValue === 'stopped') return;
      this.options.log(`${this.options.name}: no keyframe ${START_STALL_MS} ms after ffmpeg started; restarting it`);
      child.kill('SIGKILL');
    }, START_STALL_MS);
    child.on('exit', () => clearTimeout(startWatchdog));
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-2000);
    });
    child.on('error', (error) => this.options.log(`${this.options.name}: cannot run ${ffmpeg}: ${error.message}`));
    child.on('exit', (code, signal) => {
      if (this.ffmpeg !== child) return;
      this.ffmpeg = undefined;
      if (this.stateValue === 'stopped') return;
      this.options.log(
        `${this.options.name}: ffmpeg exited (${signal ?? `code ${code}`})${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-2).join(' | ')}` : ''}; restarting in ${this.restartDelayMs} ms`,
      );
      this.stateValue = 'restarting';
      this.gop = [];
      this.gopTimestamp = undefined;
      this.restartTimer = setTimeout(() => this.spawnFfmpeg(), this.restartDelayMs);
      this.restartDelayMs = Math.min(this.restartDelayMs * 2, MAX_RESTART_DELAY_MS);
    });
  }

  private onPacket(packet: Buffer): void {
    const payload = rtpPayload(packet);
    if (!payload) return;
    const info = inspectH264Payload(payload);
    if (info.sps) this.profile = profileLevelId(info.sps) ?? this.profile;
    const timestamp = packet.readUInt32BE(4);
    if (info.startsKeyframe && timestamp !== this.gopTimestamp) {
      this.gop = [];
      this.gopTimestamp = timestamp;
      if (this.stateValue !== 'ready') {
        this.stateValue = 'ready';
        this.restartDelayMs = 1000;
        this.options.log(`${this.options.name}: stream ready${this.profile ? ` (H.264 profile-level-id ${this.profile})` : ''}`);
        for (const resolve of this.readyWaiters) resolve();
        this.readyWaiters.clear();
      }
    }
    if (this.gopTimestamp !== undefined) {
      if (this.gop.length < MAX_REPLAY_PACKETS) this.gop.push(packet);
      else {
        this.gop = [];
        this.gopTimestamp = undefined;
      }
    }
    if (this.stateValue !== 'ready') return;
    for (const viewer of this.viewers) viewer(packet);
  }

  /** Waits until the feed is ready, at most `timeoutMs`; resolves whether it is. */
  waitReady(timeoutMs: number): Promise<boolean> {
    if (this.stateValue === 'ready') return Promise.resolve(true);
    if (this.stateValue === 'stopped') return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.readyWaiters.delete(done);
        resolve(this.stateValue === 'ready');
      };
      const timer = setTimeout(done, timeoutMs);
      this.readyWaiters.add(done);
    });
  }

  /**
   * Adds a viewer. `onPacket` gets each later packet (a serialized RTP packet it must not modify); the returned
   * `replay` holds the packets since the last keyframe, to send before them.
   */
  subscribe(onPacket: (packet: Buffer) => void): FeedSubscription {
    this.viewers.add(onPacket);
    return { replay: [...this.gop], unsubscribe: () => this.viewers.delete(onPacket) };
  }

  /** Kills ffmpeg and closes the socket. Idempotent. */
  stop(): void {
    if (this.stateValue === 'stopped') return;
    this.stateValue = 'stopped';
    clearTimeout(this.restartTimer);
    this.ffmpeg?.kill('SIGKILL');
    this.ffmpeg = undefined;
    this.socket?.close();
    this.socket = undefined;
    this.viewers.clear();
    this.gop = [];
    for (const resolve of this.readyWaiters) resolve();
    this.readyWaiters.clear();
  }
}
