/**
 * Just enough of RFC 6184 (H.264 over RTP) for the relay: find where a keyframe starts, and read the stream's
 * profile from its SPS so the relay can pick the browser's matching payload type.
 */

/** NAL unit types the relay cares about. */
const NAL_IDR = 5;
const NAL_SPS = 7;
const NAL_PPS = 8;
const STAP_A = 24;
const FU_A = 28;

/** What one RTP payload starts or carries. */
export interface H264PacketInfo {
  /** The packet starts (or fully carries) an SPS, PPS or IDR slice: the first packets of a keyframe. */
  startsKeyframe: boolean;
  /** The SPS NAL unit (with its header byte), when the packet carries one whole. */
  sps?: Uint8Array;
}

/** Inspects one H.264 RTP payload (single NAL unit, STAP-A or FU-A). */
export function inspectH264Payload(payload: Uint8Array): H264PacketInfo {
  if (payload.length < 1) return { startsKeyframe: false };
  const type = payload[0]! & 0x1f;
  if (type === STAP_A) {
    const info: H264PacketInfo = { startsKeyframe: false };
    for (let offset = 1; offset + 2 < payload.length; ) {
      const size = (payload[offset]! << 8) | payload[offset + 1]!;
      const nal = payload.subarray(offset + 2, offset + 2 + size);
      const inner = nal.length > 0 ? nal[0]! & 0x1f : 0;
      if (inner === NAL_SPS || inner === NAL_PPS || inner === NAL_IDR) info.startsKeyframe = true;
      if (inner === NAL_SPS) info.sps = nal;
      offset += 2 + size;
    }
    return info;
  }
  if (type === FU_A) {
    if (payload.length < 2) return { startsKeyframe: false };
    const start = (payload[1]! & 0x80) !== 0;
    return { startsKeyframe: start && (payload[1]! & 0x1f) === NAL_IDR };
  }
  return {
    startsKeyframe: type === NAL_SPS || type === NAL_PPS || type === NAL_IDR,
    sps: type === NAL_SPS ? payload : undefined,
  };
}

/** `profile-level-id` (six hex digits) from an SPS NAL unit: profile_idc, constraint flags, level_idc. */
export function profileLevelId(sps: Uint8Array): string | undefined {
  if (sps.length < 4) return undefined;
  return [sps[1]!, sps[2]!, sps[3]!].map((b) => b.toString(16).padStart(2, '0')).join('');
}
