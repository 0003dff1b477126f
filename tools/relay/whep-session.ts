/**
 * One WHEP viewer: a werift peer connection with its own track (werift rewrites packet headers in place, so
 * tracks are never shared), fed from a camera feed once DTLS is up, starting with the replay of the current GOP.
 */
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, type RTCPeerConnectionConfig } from 'werift';
import type { CameraFeed, FeedSubscription } from './camera-feed.ts';
import { chooseH264PayloadType, keepLoopbackCandidates, keepOnlyVideoPayload } from './sdp.ts';

/** Why an offer can't be answered; `status` is the HTTP status MediaMTX would send. */
export class OfferError extends Error {
  override readonly name = 'OfferError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The longest the relay waits for its own ICE candidates before answering (loopback takes milliseconds). */
const GATHER_TIMEOUT_MS = 2000;
/** A session whose peer hasn't connected this long after the answer is dropped (MediaMTX: 10 s handshake). */
const CONNECT_TIMEOUT_MS = 10_000;

/** werift settings that keep every packet on 127.0.0.1 and never contact a STUN server (H.264 and Opus only). */
export function loopbackConfig(): RTCPeerConnectionConfig {
  return {
    iceServers: [], // werift's default includes a public STUN host
    iceUseIpv6: false,
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    iceFilterCandidatePair: (pair) => pair.localCandidate.host === '127.0.0.1' && pair.remoteCandidate.host === '127.0.0.1',
    codecs: {
      video: [
        new RTCRtpCodecParameters({
          mimeType: 'video/H264',
          clockRate: 90000,
          rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'goog-remb' }],
        }),
      ],
      // Accepted so an offer with audio negotiates; the relay never sends any (`-an`).
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })],
    },
  };
}

/** A WHEP session: created from the viewer's offer, closed by DELETE, by the relay, or when the peer fails. */
export class WhepSession {
  /** Path-unique id, the last segment of the `Location` URL. */
  readonly id = crypto.randomUUID();
  private subscription?: FeedSubscription;
  private connectTimer?: NodeJS.Timeout;
  private closed = false;

  private constructor(
    readonly camera: string,
    private readonly pc: RTCPeerConnection,
    private readonly track: MediaStreamTrack,
    private readonly feed: CameraFeed,
    private readonly onClosed: (session: WhepSession) => void,
  ) {}

  /**
   * Answers `offerSdp` (a complete, non-trickle offer is best; trickled candidates are ignored). Resolves with
   * the session and its answer, candidates included. Rejects with OfferError (400) when the offer has no
   * usable H.264.
   */
  static async create(camera: string, feed: CameraFeed, offerSdp: string, onClosed: (session: WhepSession) => void): Promise<{ session: WhepSession; answer: string }> {
    if (!/^v=0/m.test(offerSdp) || !/^m=video /m.test(offerSdp)) throw new OfferError(400, 'the offer has no video section');
    const payloadType = chooseH264PayloadType(offerSdp, feed.streamProfile);
    if (payloadType === undefined) throw new OfferError(400, 'codecs not supported by client: the relay sends H.264 (packetization-mode=1) only');
    const pc = new RTCPeerConnection(loopbackConfig());
    const track = new MediaStreamTrack({ kind: 'video' });
    const session = new WhepSession(camera, pc, track, feed, onClosed);
    try {
      pc.addTransceiver(track, { direction: 'sendonly' });
      await pc.setRemoteDescription({ type: 'offer', sdp: keepOnlyVideoPayload(offerSdp, payloadType) });
      await pc.setLocalDescription(await pc.createAnswer());
      await session.gathered();
      const sdp = pc.localDescription?.sdp;
      if (!sdp) throw new Error('werift produced no answer');
      pc.connectionStateChange.subscribe((state) => session.onConnectionState(state));
      session.connectTimer = setTimeout(() => {
        if (!session.subscription) void session.close();
      }, CONNECT_TIMEOUT_MS);
      return { session, answer: keepLoopbackCandidates(sdp) };
    } catch (error) {
      void session.close();
      if (error instanceof OfferError) throw error;
      throw new OfferError(400, `cannot answer the offer: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async gathered(): Promise<void> {
    if (this.pc.iceGatheringState === 'complete') return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, GATHER_TIMEOUT_MS);
      this.pc.iceGatheringStateChange.subscribe((state) => {
        if (state !== 'complete') return;
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private onConnectionState(state: string): void {
    if (this.closed) return;
    if (state === 'connected' && !this.subscription) {
      // DTLS is up only now (werift drops packets before): send the GOP so far, then the live packets.
      this.subscription = this.feed.subscribe((packet) => this.send(packet));
      for (const packet of this.subscription.replay) this.send(packet);
    } else if (state === 'failed' || state === 'closed') {
      void this.close();
    }
  }

  private send(packet: Buffer): void {
    if (this.closed || this.track.stopped) return;
    // A Buffer, not an RtpPacket: werift parses a fresh header per call and edits that one.
    this.track.writeRtp(packet);
  }

  /** Stops sending and closes the peer connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.connectTimer);
    this.subscription?.unsubscribe();
    this.track.stop();
    this.onClosed(this);
    await this.pc.close().catch(() => undefined);
  }
}
