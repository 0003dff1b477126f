/**
 * Keeping credentials out of messages, cache keys and storage: URLs lose their credential and signature query
 * parameters before they are stored or shown, and any text that might echo a server's words is scrubbed of the key.
 */

/**
 * Query parameters that carry credentials or short-lived signatures. They are dropped from every URL that is
 * stored, shown or used as a cache key, so a re-signed download URL maps to the same cache entry.
 */
const SECRET_PARAMS = /^(api[_-]?key|key|token|access[_-]?token|auth|authorization|sig|signature|expires|x-goog-.*|x-amz-.*|googleaccessid|policy|key-pair-id|se|sp|sv|sr|st|skoid|sktid|skt|ske|sks|skv)$/i;

/** Replaces every occurrence of `secret` in `text` with `***`. Secrets under 4 characters are left alone (too likely to match ordinary text). */
export function redactSecret(text: string, secret: string | undefined): string {
  if (!secret || secret.length < 4) return text;
  return text.split(secret).join('***');
}

/**
 * The URL without user info and without credential or signature query parameters (see the list above),
 * and without any parameter whose value is `secret`. Relative or unparsable input is returned as is, minus its query.
 */
export function sanitizeUrl(url: string, secret?: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.split('?')[0]!;
  }
  parsed.username = '';
  parsed.password = '';
  for (const name of [...parsed.searchParams.keys()]) {
    const value = parsed.searchParams.get(name);
    if (SECRET_PARAMS.test(name) || (secret && value === secret)) parsed.searchParams.delete(name);
  }
  parsed.hash = '';
  return parsed.href;
}

/** Origin and path of a URL, no query or fragment: the form used in error messages. */
export function endpointOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return url.split('?')[0]!.split('#')[0]!;
  }
}

/** Scrubs `secret` from an error's message (and keeps its class, code and status). */
export function scrubError<E extends Error>(error: E, secret: string | undefined): E {
  if (!secret || secret.length < 4 || !error.message.includes(secret)) return error;
  try {
    Object.defineProperty(error, 'message', { value: redactSecret(error.message, secret), configurable: true, writable: true });
  } catch {
    // A frozen error keeps its message; callers only build messages without the key in the first place.
  }
  if (error.stack) {
    try {
      Object.defineProperty(error, 'stack', { value: redactSecret(error.stack, secret), configurable: true, writable: true });
    } catch {
      // as above
    }
  }
  return error;
}

/** A deep copy of a JSON-like value with `secret` scrubbed from every string (for status payloads). */
export function scrubValue<T>(value: T, secret: string | undefined): T {
  if (!secret || secret.length < 4) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redactSecret(v, secret);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return walk(value) as T;
}
