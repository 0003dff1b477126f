/**
 * RTSP cameras through a WebRTC relay: browsers can't open `rtsp://`, so a relay (MediaMTX, go2rtc or the
 * bundled `npm run relay`) pulls the camera and serves it over WHEP. This maps a camera's RTSP URL to the
 * relay's WHEP endpoint.
 */

/** Which relay serves the stream, and where. */
export interface RtspRelay {
  /** The relay's HTTP base URL: MediaMTX and the bundled relay `http://host:8889`, go2rtc `http://host:1984`. */
  url: string;
  /** `mediamtx` (also the bundled relay): `{url}/{path}/whep`. `go2rtc`: `{url}/api/webrtc?src={name}`. */
  kind: 'mediamtx' | 'go2rtc';
}

const KINDS: readonly RtspRelay['kind'][] = ['mediamtx', 'go2rtc'];

/**
 * Checks an `rtspRelay` option up front, so a typo fails at init rather than when a source opens. Throws
 * TypeError naming `path` and the value received.
 */
export function checkRtspRelay(value: unknown, path = 'rtspRelay'): asserts value is RtspRelay {
  const relay = value as Partial<RtspRelay> | null;
  if (typeof relay !== 'object' || relay === null) {
    throw new TypeError(`${path} must be { url: 'http(s)://…', kind: 'mediamtx' | 'go2rtc' }, got ${JSON.stringify(value) ?? String(value)}`);
  }
  if (typeof relay.url !== 'string' || !/^https?:\/\/[^/]/i.test(relay.url)) {
    throw new TypeError(`${path}.url must be the relay's http(s) base URL (e.g. http://127.0.0.1:8889), got ${JSON.stringify(relay.url)}`);
  }
  if (!KINDS.includes(relay.kind as RtspRelay['kind'])) throw new TypeError(`${path}.kind must be one of ${KINDS.join(', ')}, got ${JSON.stringify(relay.kind)}`);
}

/**
 * The WHEP endpoint that serves `rtspUrl` through `relay`. The stream's name on the relay is the RTSP URL's path
 * (`rtsp://cam.local:8554/cam1` → `cam1`), which is how MediaMTX and go2rtc name the streams they re-serve on
 * their own RTSP port; query and credentials are not part of it. Throws TypeError for a URL that isn't
 * `rtsp://`/`rtsps://`, has no path, or a relay that isn't `{ url: 'http(s)://…', kind }`.
 *
 * @example whepUrlForRtsp('rtsp://127.0.0.1:8554/cam1', { url: 'http://127.0.0.1:8889', kind: 'mediamtx' })
 *   // 'http://127.0.0.1:8889/cam1/whep'
 * @example whepUrlForRtsp('rtsp://127.0.0.1:8554/cam1', { url: 'http://127.0.0.1:1984', kind: 'go2rtc' })
 *   // 'http://127.0.0.1:1984/api/webrtc?src=cam1'
 */
export function whepUrlForRtsp(rtspUrl: string, relay: RtspRelay): string {
  const match = /^rtsps?:\/\/[^/?#]*\/([^?#]*)/i.exec(rtspUrl);
  const name = match?.[1]?.replace(/\/+$/, '');
  if (!name) throw new TypeError(`expected an rtsp:// URL with a stream path (rtsp://host:8554/cam1), got ${JSON.stringify(rtspUrl)}`);
  checkRtspRelay(relay);
  const base = relay.url.replace(/\/+$/, '');
  if (relay.kind === 'go2rtc') return `${base}/api/webrtc?src=${encodeURIComponent(decodeURIComponent(name))}`;
  return `${base}/${name}/whep`;
}
