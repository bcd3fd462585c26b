// The one way the console talks to OptiLoop: the public REST API, as the signed-in person.
// Served by `optiloop serve` (same origin), sign-in opens a server-side session: the key (or the OIDC
// sign-in) is exchanged once for an HttpOnly, SameSite=Strict cookie that no script can read, and
// every state-changing request carries the session's CSRF token (X-CSRF-Token). A console served as
// static files (S3 behind CloudFront; `/console-config.json` says so) has no server session: it keeps
// the credential (an ID token from the browser's PKCE sign-in, or a key) in this tab's sessionStorage
// and sends it as `Authorization: Bearer`; so does a console pointed at an API on another origin.
// Roles and four eyes are the server's to enforce either way.

const KEY = "optiloop.key";
const BASE = "optiloop.base";
const CSRF = "optiloop.csrf";

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
  return Boolean(sessionStorage.getItem(KEY) || sessionStorage.getItem(CSRF));
}

/** After an OIDC sign-in or in a new tab: is there a session cookie? Then learn its CSRF token. */
export async function restoreSession() {
  try {
    const r = await fetch("/console/session", { credentials: "same-origin" });
    if (!r.ok) return false;
    sessionStorage.setItem(CSRF, (await r.json()).csrf_token);
    return true;
  } catch {
    return false;
  }
}

/** Whether this server signs people in with an OpenID provider (`/console/oidc/login`). */
export async function oidcEnabled() {
  try {
    const r = await fetch("/console/config", { credentials: "same-origin" });
    return r.ok && Boolean((await r.json()).oidc);
  } catch {
    return false;
  }
}

let staticConfig;

/**
 * The static deployment's settings (`/console-config.json`, written by the CDK app: `api`, the API's
 * base URL, "" for this origin; `oidc`, the IdP's endpoints and the app client), or null when the
 * console is served by `optiloop serve` (which has no such file).
 */
export async function consoleConfig() {
  if (staticConfig === undefined) {
    try {
      const r = await fetch("/console-config.json", { credentials: "omit" });
      staticConfig = r.ok ? await r.json() : null;
    } catch {
      staticConfig = null;
    }
  }
  return staticConfig;
}

/** Signed in with a bearer credential kept in this tab (a static console's ID token or key). */
export function useCredential(credential, base) {
  signOut();
  sessionStorage.setItem(KEY, credential.trim());
  if (base) sessionStorage.setItem(BASE, base.replace(/\/+$/, ""));
}

/** Where the API is: this origin unless the sign-in page was told otherwise (console served from S3). */
export function apiBase() {
  return sessionStorage.getItem(BASE) || "";
}

/** Sign in with an API key: a session here, or (API on another origin) the key kept in this tab. */
export async function signIn(key, base) {
  signOut();
  const config = await consoleConfig();
  if (base || config) {
    useCredential(key, base || (config && config.api) || "");
    return;
  }
  const r = await fetch("/console/session", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ api_key: key.trim() }),
  });
  if (!r.ok) {
    let error = { message: `${r.status} ${r.statusText}` };
    try {
      error = (await r.json()).error || error;
    } catch {
      /* keep the status line */
    }
    throw new ApiError(r.status, error);
  }
  sessionStorage.setItem(CSRF, (await r.json()).csrf_token);
}

/** Forget the credential; `server: true` also ends the server-side session (the Sign out button). */
export function signOut({ server = false } = {}) {
  const csrf = sessionStorage.getItem(CSRF);
  if (server && csrf) {
    fetch("/console/session", { method: "DELETE", credentials: "same-origin", headers: { "X-CSRF-Token": csrf } }).catch(() => {});
  }
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(BASE);
  sessionStorage.removeItem(CSRF);
}

/**
 * Call the API. `body` (an object) is sent as JSON; `text: true` returns the answer as text (CSV),
 * `blob: true` as a Blob (a PNG).
 * A 401 signs the user out (revoked or wrong key) and sends them to the sign-in page.
 */
export async function api(method, path, body, { text = false, blob = false, accept } = {}) {
  const key = sessionStorage.getItem(KEY);
  const headers = {};
  if (key) headers.Authorization = `Bearer ${key}`;
  else if (!["GET", "HEAD"].includes(method)) headers["X-CSRF-Token"] = sessionStorage.getItem(CSRF) || "";
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (accept) headers.Accept = accept;
  let response;
  try {
    response = await fetch(apiBase() + path, {
      method,
      headers,
      credentials: "same-origin",
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
  if (blob) return response.blob();
  if (response.status === 204) return null;
  return response.json();
}

export const get = (path, opts) => api("GET", path, undefined, opts);
export const post = (path, body, opts) => api("POST", path, body ?? {}, opts);
export const del = (path, opts) => api("DELETE", path, undefined, opts);

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
