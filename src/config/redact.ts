/**
 * Credentials written into URLs — `https://user:password@host/`, `?apikey=…`, `&token=…` — are
 * redacted wherever a URL may be shown: config check, logs, errors, dead-letter headers and the
 * API's status answers. An operator's config is full of URLs; not one of them should carry a
 * credential into a log.
 */
const REDACTED = '[redacted]';
const URL_PATTERN = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;
const SENSITIVE_QUERY = /^(?:.*[-_.])?(?:key|apikey|api[-_]?key|token|access[-_]?token|auth|authorization|password|passwd|pass|pwd|secret|sig|signature|credentials?|session|sessionid)$/i;

/** Whether a URL query parameter of this name carries a credential (`apikey`, `token`, `sig`, `x_api_key`, ...). */
export function isCredentialParameter(name: string): boolean {
  return SENSITIVE_QUERY.test(name);
}

/** The text with the userinfo password (or a lone userinfo token) and sensitive query values of every URL redacted. */
export function redactUrlCredentials(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(URL_PATTERN, redactOne);
}

function redactOne(url: string): string {
  const scheme = url.indexOf('://') + 3;
  const authorityEnd = findAuthorityEnd(url, scheme);
  const at = url.lastIndexOf('@', authorityEnd);
  let out = url;
  if (at >= scheme) {
    const userinfo = url.slice(scheme, at);
    const colon = userinfo.indexOf(':');
    // user:password keeps the user; a lone userinfo is usually a token, so all of it goes.
    const shown = colon >= 0 ? `${userinfo.slice(0, colon)}:${REDACTED}` : REDACTED;
    out = `${url.slice(0, scheme)}${shown}${url.slice(at)}`;
  }
  const query = out.indexOf('?');
  if (query < 0) return out;
  const hash = out.indexOf('#', query);
  const end = hash < 0 ? out.length : hash;
  const params = out
    .slice(query + 1, end)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      if (equals < 0) return pair;
      let name = pair.slice(0, equals);
      try {
        name = decodeURIComponent(name);
      } catch {
        // a malformed escape: judge the name as written
      }
      return SENSITIVE_QUERY.test(name) ? `${pair.slice(0, equals)}=${REDACTED}` : pair;
    });
  return `${out.slice(0, query + 1)}${params.join('&')}${out.slice(end)}`;
}

function findAuthorityEnd(url: string, from: number): number {
  for (let i = from; i < url.length; i++) {
    const c = url[i];
    if (c === '/' || c === '?' || c === '#') return i;
  }
  return url.length;
}
