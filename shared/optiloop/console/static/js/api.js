// The one way the console talks to OptiLoop: the public REST API with the user's own API key.
// The key lives in sessionStorage (gone when the tab closes, never in a cookie, so no CSRF) and is
// sent as `Authorization: Bearer` on every request; roles and four eyes are the server's to enforce.

const KEY = "optiloop.key";
const BASE = "optiloop.base";

/** An error answer from the API: `{"error": {code, message, details: [{field, reason, hint}], request_id}}`. */
export class ApiError extends Error {
  constructor(status, error) {
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || `http_${status}`;
    this.details = Array.isArray(error.details) ? error.details : [];
    this.requestId = error.request_id || null;
  }
}

export function signedIn() {
  return Boolean(sessionStorage.getItem(KEY));
}

/** Where the API is: this origin unless the sign-in page was told otherwise (console served from S3). */
export function apiBase() {
  return sessionStorage.getItem(BASE) || "";
}

export function signIn(key, base) {
  sessionStorage.setItem(KEY, key.trim());
  if (base) sessionStorage.setItem(BASE, base.replace(/\/+$/, ""));
  else sessionStorage.removeItem(BASE);
}

export function signOut() {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(BASE);
}

/**
 * Call the API. `body` (an object) is sent as JSON; `text: true` returns the answer as text (CSV).
 * A 401 signs the user out (revoked or wrong key) and sends them to the sign-in page.
 */
export async function api(method, path, body, { text = false, accept } = {}) {
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(KEY) || ""}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (accept) headers.Accept = accept;
  let response;
  try {
    response = await fetch(apiBase() + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, { code: "unreachable", message: `cannot reach the API (${e.message})` });
  }
  if (!response.ok) {
    let error = { message: `${response.status} ${response.statusText}` };
    try {
      error = (await response.json()).error || error;
    } catch {
      /* not JSON: keep the status line */
    }
    const err = new ApiError(response.status, error);
    if (response.status === 401 && !path.startsWith("/v1/healthz")) {
      signOut();
      window.dispatchEvent(new CustomEvent("optiloop:signedout", { detail: err }));
    }
    throw err;
  }
  if (text) return response.text();
  if (response.status === 204) return null;
  return response.json();
}

export const get = (path, opts) => api("GET", path, undefined, opts);
export const post = (path, body, opts) => api("POST", path, body ?? {}, opts);

/** `?a=1&b=2` from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

export const enc = encodeURIComponent;
