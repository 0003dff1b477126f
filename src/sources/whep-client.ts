/**
 * The WHEP protocol (WebRTC-HTTP Egress Protocol), client side: one call makes one receive-only peer connection
 * and negotiates it with the server over HTTP.
 *
 * - The offer is complete before it is sent: ICE gathering runs to the end (capped at about 2 s), so servers
 *   that don't take trickled candidates (go2rtc) work.
 * - `POST {url}` with `Content-Type: application/sdp` → `201 Created` with the answer, and a `Location` for the
 *   session when the server gives one (MediaMTX does, go2rtc doesn't); the session is DELETEd on close.
 * - `406 Not Acceptable` with an SDP body is a counter-offer (the server wants to offer): answer it on a fresh
 *   peer connection and `PATCH` the answer (`application/sdp`) to the session's `Location`.
 * - `404`, `409`, `429` and `503` mean "not live yet": {@link WhepHttpError} with `retryable` set and the server's
 *   `Retry-After` in milliseconds; so are other 5xx and network failures. Other 4xx are permanent.
 * - Codecs: H.264 with packetization-mode 1 first, then VP8, then whatever else the browser can decode.
 */
import { describeError } from '../pipeline/errors.ts';

/** The longest we wait for ICE gathering before sending what we have (loopback and LAN take milliseconds). */
export const ICE_GATHERING_TIMEOUT_MS = 2000;
/** The longest one HTTP exchange (POST or PATCH) may take before it counts as a failed attempt. */
export const WHEP_REQUEST_TIMEOUT_MS = 10_000;

/** A WHEP exchange failed. `retryable` says whether trying again later may succeed. */
export class WhepHttpError extends Error {
  override readonly name = 'WhepHttpError';
  constructor(
    message: string,
    /** The HTTP status, or 0 when no response came (network error, timeout). */
    readonly status: number,
    /** Worth retrying: network failures, 404/408/409/425/429 and 5xx. */
    readonly retryable: boolean,
    /** The server's `Retry-After`, in milliseconds, when it sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** Options of {@link connectWhep}. */
export interface WhepConnectOptions {
  /** Aborts the whole negotiation (and closes the peer connection). */
  signal: AbortSignal;
  /** The fetch to use. Default: the global fetch. */
  fetch?: typeof fetch;
  /** Peer connection settings (ICE servers for a remote relay; none are needed on a LAN). */
  rtcConfiguration?: RTCConfiguration;
}

/** A negotiated WHEP session. The peer connection may still be connecting. */
export interface WhepConnection {
  readonly pc: RTCPeerConnection;
  /** The remote stream with the video track (the track arrives with the answer, before any frame). */
  readonly stream: MediaStream;
  /** The session URL to DELETE on close, when the server gave one. */
  readonly resourceUrl?: string;
  /**
   * Stops the tracks, closes the peer connection and DELETEs the session (in the background, `keepalive`, so
   * it also goes out while the page unloads). Idempotent; never throws.
   */
  close(): void;
}

/** Statuses that mean "the stream isn't there yet, try again" (MediaMTX: 404 no stream; 409/503 busy). */
const RETRYABLE_STATUSES = new Set([404, 408, 409, 425, 429]);

/** `Retry-After` (seconds or an HTTP date) in milliseconds, or undefined. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status) || status >= 500;
}

/**
 * Codec order for a receiver: H.264 packetization-mode 1 (Constrained Baseline 42e01f first, the variant every
 * relay and camera handles), then VP8, then everything else in the browser's order (including H.264 mode 0,
 * RTX, RED and FEC, which must stay listed for retransmission and error correction to work).
 */
export function preferredReceiveCodecs(codecs: readonly RTCRtpCodec[]): RTCRtpCodec[] {
  const fmtp = (c: RTCRtpCodec): string => (c.sdpFmtpLine ?? '').toLowerCase();
  const rank = (c: RTCRtpCodec): number => {
    const mime = c.mimeType.toLowerCase();
    if (mime === 'video/h264' && fmtp(c).includes('packetization-mode=1')) return fmtp(c).includes('profile-level-id=42e01f') ? 0 : 1;
    if (mime === 'video/vp8') return 2;
    return 3;
  };
  // Array.prototype.sort is stable: within a rank the browser's own order is kept.
  return [...codecs].sort((a, b) => rank(a) - rank(b));
}

/** Applies {@link preferredReceiveCodecs} to a transceiver, where the browser supports it. */
function preferCodecs(transceiver: RTCRtpTransceiver): void {
  const capabilities = typeof RTCRtpReceiver !== 'undefined' && RTCRtpReceiver.getCapabilities ? RTCRtpReceiver.getCapabilities('video') : null;
  if (!capabilities || typeof transceiver.setCodecPreferences !== 'function') return;
  try {
    transceiver.setCodecPreferences(preferredReceiveCodecs(capabilities.codecs));
  } catch {
    // An old browser rejecting some entry: its default order still negotiates.
  }
}

/** Waits until ICE gathering completes, at most `timeoutMs`; rejects when `signal` aborts. */
export function waitForIceGathering(pc: RTCPeerConnection, timeoutMs: number, signal: AbortSignal): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', onChange);
      signal.removeEventListener('abort', onAbort);
    };
    const onChange = (): void => {
      if (pc.iceGatheringState !== 'complete') return;
      done();
      resolve();
    };
    const onAbort = (): void => {
      done();
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      done();
      resolve(); // send the candidates gathered so far
    }, timeoutMs);
    pc.addEventListener('icegatheringstatechange', onChange);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves with the remote video stream once the peer connection has a video track. */
function remoteVideo(pc: RTCPeerConnection): Promise<MediaStream> {
  return new Promise((resolve) => {
    pc.addEventListener('track', (event) => {
      if (event.track.kind !== 'video') return;
      resolve(event.streams[0] ?? new MediaStream([event.track]));
    });
  });
}

/** One HTTP exchange, bounded by {@link WHEP_REQUEST_TIMEOUT_MS} and by `signal`. */
async function exchange(doFetch: typeof fetch, url: string, init: RequestInit, signal: AbortSignal, what: string): Promise<Response> {
  const timeout = AbortSignal.timeout(WHEP_REQUEST_TIMEOUT_MS);
  try {
    return await doFetch(url, { ...init, signal: AbortSignal.any([signal, timeout]) });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    const why = timeout.aborted ? `no answer within ${WHEP_REQUEST_TIMEOUT_MS / 1000} s` : describeError(error);
    throw new WhepHttpError(`${what} ${url} failed: ${why}`, 0, true);
  }
}

/** Turns a non-success response into a WhepHttpError, with the server's message when it sent one. */
async function httpError(response: Response, what: string, url: string): Promise<WhepHttpError> {
  let detail = '';
  try {
    const body = (await response.text()).trim();
    const parsed = body.startsWith('{') ? (JSON.parse(body) as { error?: unknown }) : undefined;
    detail = typeof parsed?.error === 'string' ? parsed.error : body.slice(0, 200);
  } catch {
    // No readable body: the status says enough.
  }
  const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
  return new WhepHttpError(
    `${what} ${url} answered ${status}${detail ? `: ${detail}` : ''}`,
    response.status,
    isRetryableStatus(response.status),
    parseRetryAfter(response.headers.get('Retry-After')),
  );
}

function sendDelete(doFetch: typeof fetch, resourceUrl: string): void {
  doFetch(resourceUrl, { method: 'DELETE', keepalive: true }).catch(() => undefined);
}

function closePeer(pc: RTCPeerConnection): void {
  for (const receiver of pc.getReceivers()) receiver.track.stop();
  pc.close();
}

/**
 * Negotiates a receive-only WHEP session with `url`. Resolves once the answer is applied (media may take a few
 * hundred milliseconds more). Rejects with {@link WhepHttpError} when the server refuses or can't be reached,
 * with `signal.reason` when aborted; a failed or aborted attempt leaves nothing open, and a session the server
 * created is DELETEd.
 */
export async function connectWhep(url: string, options: WhepConnectOptions): Promise<WhepConnection> {
  const { signal } = options;
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  signal.throwIfAborted();
  let pc = new RTCPeerConnection(options.rtcConfiguration);
  let resourceUrl: string | undefined;
  const cleanUp = (): void => {
    closePeer(pc);
    if (resourceUrl) sendDelete(doFetch, resourceUrl);
  };
  signal.addEventListener('abort', cleanUp, { once: true });
  try {
    preferCodecs(pc.addTransceiver('video', { direction: 'recvonly' }));
    let stream = remoteVideo(pc);
    await pc.setLocalDescription(await pc.createOffer());
    await waitForIceGathering(pc, ICE_GATHERING_TIMEOUT_MS, signal);
    const offer = pc.localDescription?.sdp;
    if (!offer) throw new WhepHttpError('the browser produced no SDP offer', 0, false);

    const response = await exchange(doFetch, url, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: offer }, signal, 'POST');
    const location = response.headers.get('Location');
    if (location) resourceUrl = new URL(location, response.url || url).href;

    if (response.status === 201 || response.status === 200) {
      const answer = await response.text();
      signal.throwIfAborted();
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    } else if (response.status === 406) {
      // A counter-offer: the server offers, we answer on a fresh connection and PATCH the answer.
      const serverOffer = await response.text();
      if (!resourceUrl) throw new WhepHttpError(`POST ${url} answered 406 with a counter-offer but no Location to PATCH the answer to`, 406, false);
      if (!/^v=0/m.test(serverOffer)) throw await httpError(new Response(serverOffer, { status: 406, statusText: 'Not Acceptable' }), 'POST', url);
      closePeer(pc);
      pc = new RTCPeerConnection(options.rtcConfiguration);
      stream = remoteVideo(pc);
      await pc.setRemoteDescription({ type: 'offer', sdp: serverOffer });
      for (const transceiver of pc.getTransceivers()) {
        if (transceiver.receiver.track.kind !== 'video') continue;
        transceiver.direction = 'recvonly';
        preferCodecs(transceiver);
      }
      await pc.setLocalDescription(await pc.createAnswer());
      await waitForIceGathering(pc, ICE_GATHERING_TIMEOUT_MS, signal);
      const patched = await exchange(
        doFetch,
        resourceUrl,
        { method: 'PATCH', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription?.sdp ?? '' },
        signal,
        'PATCH',
      );
      if (!patched.ok) throw await httpError(patched, 'PATCH', resourceUrl);
    } else {
      throw await httpError(response, 'POST', url);
    }
    signal.throwIfAborted();
    const remote = await Promise.race([
      stream,
      new Promise<never>((_, reject) => setTimeout(() => reject(new WhepHttpError(`the answer from ${url} has no video track`, 0, true)), 1000)),
    ]);
    signal.removeEventListener('abort', cleanUp);
    const connection = pc;
    let closed = false;
    return {
      pc: connection,
      stream: remote,
      resourceUrl,
      close(): void {
        if (closed) return;
        closed = true;
        closePeer(connection);
        if (resourceUrl) sendDelete(doFetch, resourceUrl);
      },
    };
  } catch (error) {
    signal.removeEventListener('abort', cleanUp);
    cleanUp();
    if (signal.aborted) throw signal.reason;
    if (error instanceof WhepHttpError) throw error;
    throw new WhepHttpError(`WHEP negotiation with ${url} failed: ${describeError(error)}`, 0, true);
  }
}
