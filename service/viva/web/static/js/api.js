/* API client for Viva's REST API on the same origin: every failure becomes an ApiError carrying
 * the problem+json title and detail. */

export class ApiError extends Error {
  constructor(status, title, detail) {
    super(detail || title);
    this.status = status;
    this.title = title;
    this.detail = detail;
  }
}

// Credentials, when the server has accounts: an API key or a candidate link token, taken
// from ?key= or ?link= (then removed from the address bar) or asked for after a 401. Kept
// for this tab only (sessionStorage), sent as `Authorization: Bearer`.
const CREDENTIAL = "viva.credential";

function credential() {
  try {
    return window.sessionStorage.getItem(CREDENTIAL) || "";
  } catch (err) {
    return "";
  }
}

function keepCredential(token) {
  try {
    window.sessionStorage.setItem(CREDENTIAL, token);
  } catch (err) {
    /* storage off: the token lasts for this page only */
  }
  memoryCredential = token;
}

let memoryCredential = "";

/** The bearer token to send, if any (also used by report downloads, which fetch by hand). */
export const authToken = () => credential() || memoryCredential;
(function takeCredentialFromUrl() {
  const q = new URLSearchParams(window.location.search);
  const token = q.get("link") || q.get("key");
  if (!token) return;
  keepCredential(token);
  q.delete("link");
  q.delete("key");
  const rest = q.toString();
  const url = window.location.pathname + (rest ? `?${rest}` : "") + window.location.hash;
  window.history.replaceState(window.history.state, "", url);
})();

export async function api(method, path, body, headers, retried) {
  let res;
  const token = authToken();
  try {
    res = await fetch(path, {
      method,
      headers: Object.assign(
        { Accept: "application/json" },
        body !== undefined ? { "Content-Type": "application/json" } : {},
        token ? { Authorization: `Bearer ${token}` } : {},
        headers || {},
      ),
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (err) {
    throw new ApiError(0, "Can't reach the Viva service", "Check that the server is running, then try again.");
  }
  const type = res.headers.get("content-type") || "";
  let data = null;
  if (type.includes("json")) {
    try {
      data = await res.json();
    } catch (err) {
      data = null;
    }
  }
  if (res.status === 401 && !retried) {
    const given = window.prompt("This Viva server needs an API key or your interview link's token:");
    if (given && given.trim()) {
      keepCredential(given.trim());
      return api(method, path, body, headers, true);
    }
  }
  if (!res.ok) {
    let title = `Request failed (${res.status})`;
    let detail = res.statusText || "";
    if (data && typeof data === "object") {
      if (data.title) title = String(data.title);
      if (typeof data.detail === "string") detail = data.detail;
      else if (Array.isArray(data.detail)) detail = data.detail.map((d) => d.msg || JSON.stringify(d)).join("; ");
      if (Array.isArray(data.errors) && !detail) detail = data.errors.map((d) => d.msg || String(d)).join("; ");
    }
    throw new ApiError(res.status, title, detail);
  }
  if (data === null && !type.includes("json")) data = await res.text().catch(() => null);
  return data;
}
