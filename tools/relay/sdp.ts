/**
 * SDP edits the relay needs around werift 0.24, which matches codecs by MIME type only and would answer every
 * H.264 variant the browser offers, and which may gather candidates on addresses other than loopback.
 */

/** An H.264 payload type from an offer. */
interface OfferedH264 {
  payloadType: number;
  fmtp: string;
}

/** The H.264 payload types of the offer's first video section, with their `a=fmtp` parameters. */
function offeredH264(sdp: string): OfferedH264[] {
  const lines = sdp.split(/\r?\n/);
  const start = lines.findIndex((l) => l.startsWith('m=video '));
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && l.startsWith('m='));
  const section = lines.slice(start, end < 0 ? undefined : end);
  const found: OfferedH264[] = [];
  for (const line of section) {
    const m = /^a=rtpmap:(\d+) H264\/90000/i.exec(line);
    if (!m) continue;
    const payloadType = Number(m[1]);
    const fmtp = section.find((l) => l.startsWith(`a=fmtp:${payloadType} `))?.slice(`a=fmtp:${payloadType} `.length) ?? '';
    found.push({ payloadType, fmtp });
  }
  return found;
}

function fmtpValue(fmtp: string, key: string): string | undefined {
  for (const part of fmtp.split(';')) {
    const [k, v] = part.trim().split('=');
    if (k?.toLowerCase() === key) return v?.toLowerCase();
  }
  return undefined;
}

/**
 * Picks one H.264 payload type with packetization-mode=1: the browser's variant for the stream's own profile
 * when it offers one (`streamProfile` is the SPS's profile-level-id), else Constrained Baseline 42e01f, else
 * any. Returns undefined when the offer has no H.264 with packetization-mode=1.
 */
export function chooseH264PayloadType(sdp: string, streamProfile: string | undefined): number | undefined {
  const candidates = offeredH264(sdp).filter((c) => fmtpValue(c.fmtp, 'packetization-mode') === '1');
  const score = (c: OfferedH264): number => {
    const profile = fmtpValue(c.fmtp, 'profile-level-id') ?? '42001f';
    if (streamProfile && profile.slice(0, 2) === streamProfile.slice(0, 2).toLowerCase()) return 3;
    if (profile === '42e01f') return 2;
    return 1;
  };
  return [...candidates].sort((a, b) => score(b) - score(a))[0]?.payloadType;
}

/**
 * Keeps only `payloadType` in the offer's video section (its m= format list, rtpmap, fmtp and rtcp-fb lines),
 * so werift answers exactly that codec. Other sections are left as they are.
 */
export function keepOnlyVideoPayload(sdp: string, payloadType: number): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const out: string[] = [];
  let inVideo = false;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) {
      inVideo = line.startsWith('m=video ');
      if (inVideo) {
        const [m, port, proto] = line.split(' ');
        out.push(`${m} ${port} ${proto} ${payloadType}`);
        continue;
      }
    }
    if (inVideo) {
      const pt = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+)[ ]/.exec(line);
      if (pt && Number(pt[1]) !== payloadType) continue;
    }
    out.push(line);
  }
  return out.join(eol);
}

/**
 * Drops every ICE candidate whose address is not 127.0.0.1: werift falls back to all interfaces when none
 * matches its filter, and the relay must never advertise (or be reached on) anything but loopback.
 */
export function keepLoopbackCandidates(sdp: string): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  return sdp
    .split(/\r?\n/)
    .filter((line) => {
      if (!line.startsWith('a=candidate:')) return true;
      // a=candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ...
      return line.split(' ')[4] === '127.0.0.1';
    })
    .join(eol);
}
