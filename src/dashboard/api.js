// The session (the bearer token, kept in sessionStorage: it lives as long as the tab) and the
// calls to trustwire's read API. Every call carries `Authorization: Bearer <token>`.

const TOKEN_KEY = 'trustwire.dashboard.token';

export const session = {
  token() {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  },
  signIn(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
  },
  headers() {
    return { authorization: `Bearer ${this.token()}` };
  },
};

/** The API refused the token (401) or its scope (403): the page asks for a token again. */
export class AuthError extends Error {
  constructor(status, reason) {
    super(reason);
    this.name = 'AuthError';
    this.status = status;
  }
}

/** Any other failure, with the API's own `error` text. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

/** The API's `{error}` text of a failed answer, or its status line. */
export async function errorText(response) {
  try {
    const body = await response.json();
    if (typeof body?.error === 'string') return body.error;
  } catch {
    // not JSON: the status says it
  }
  return `${response.status} ${response.statusText}`.trim();
}

/** Why a 401/403 sent the user back to the sign-in form, in words. */
export async function authError(response) {
  const reason = await errorText(response);
  return new AuthError(
    response.status,
    response.status === 401 ? `The token was not accepted (${reason}).` : `The token may not read the dashboard's data (${reason}).`,
  );
}

/** GET a JSON route; `params` with empty values are left out. `undefined` for a 404 when `optional`. */
export async function getJson(path, params = {}, { optional = false, signal } = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') query.set(name, String(value));
  const text = query.toString();
  const url = text === '' ? path : `${path}?${text}`;
  const response = await fetch(url, { headers: { ...session.headers(), accept: 'application/json' }, cache: 'no-store', signal });
  if (response.status === 401 || response.status === 403) throw await authError(response);
  if (response.status === 404 && optional) return undefined;
  if (!response.ok) throw new ApiError(response.status, await errorText(response));
  return response.json();
}

const id = (value) => encodeURIComponent(value);

/** The routes the dashboard reads (docs/dashboard-api.md and the host and compliance routes). */
export const api = {
  overview: () => getJson('/v1/overview'),
  hosts: () => getJson('/v1/hosts'),
  connectors: () => getJson('/v1/connectors'),
  activity: (filters) => getJson('/v1/activity', filters),
  alerts: (filters) => getJson('/v1/alerts', filters),
  host: (hostId) => getJson(`/v1/hosts/${id(hostId)}`, {}, { optional: true }),
  hostHistory: (hostId) => getJson(`/v1/hosts/${id(hostId)}/history`, {}, { optional: true }),
  hostCompliance: (hostId) => getJson(`/v1/compliance/hosts/${id(hostId)}`, {}, { optional: true }),
};
