// Every call to the JSON API goes through here: the CSRF token is fetched once per page and sent back in
// the x-csrftoken header on unsafe methods; failures become ApiError with the API's error code.

export class ApiError extends Error {
  constructor(status, code, detail, extra, retryAfter) {
    super(detail || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || "error";
    this.detail = detail || "";
    this.extra = extra || null;
    this.retryAfter = retryAfter;
  }
}

let csrfPromise = null;

function csrfToken(refresh = false) {
  if (!csrfPromise || refresh) {
    csrfPromise = fetch("/api/auth/csrf", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => response.json())
      .then((body) => body.csrf_token)
      .catch((error) => {
        csrfPromise = null; // try again on the next call
        throw error;
      });
  }
  return csrfPromise;
}

async function toError(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    // not JSON (a proxy's error page): keep the status alone
  }
  const retryAfter = Number(response.headers.get("retry-after")) || null;
  const code = body.code || (response.status === 429 ? "rate_limited" : null);
  return new ApiError(response.status, code, body.detail, body.extra, retryAfter);
}

/**
 * Call the API. `json` is sent as a JSON body; `body` as is (e.g. a File). Returns the parsed JSON (or null
 * for 204), throws ApiError (or TypeError when the network is down).
 */
export async function api(path, { method = "GET", json, body, headers = {} } = {}) {
  const unsafe = !["GET", "HEAD"].includes(method);
  for (let attempt = 0; ; attempt += 1) {
    const sent = { Accept: "application/json", ...headers };
    if (json !== undefined) sent["Content-Type"] = "application/json";
    if (unsafe) sent["x-csrftoken"] = await csrfToken(attempt > 0);
    const response = await fetch(path, {
      method,
      headers: sent,
      body: json !== undefined ? JSON.stringify(json) : body,
      credentials: "same-origin",
    });
    if (response.ok) {
      if (response.status === 204) return null;
      const type = response.headers.get("content-type") || "";
      return type.includes("json") ? response.json() : response.text();
    }
    const error = await toError(response);
    // The CSRF cookie may have expired or been cleared: fetch a fresh token and try once more.
    if (unsafe && error.code === "csrf_failed" && attempt === 0) continue;
    throw error;
  }
}

/**
 * Send a file with progress: fetch cannot report how much of a request body was sent, XMLHttpRequest can.
 * onProgress({loaded, total}) is called as the body goes out; `cancel` is an AbortSignal. Resolves to the
 * parsed JSON answer; rejects with ApiError (an AbortError DOMException when cancelled).
 */
export async function upload(path, { body, headers = {}, onProgress, signal } = {}) {
  for (let attempt = 0; ; attempt += 1) {
    const token = await csrfToken(attempt > 0);
    const response = await new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open("POST", path);
      request.withCredentials = true;
      for (const [name, value] of Object.entries({ Accept: "application/json", ...headers, "x-csrftoken": token })) {
        request.setRequestHeader(name, value);
      }
      request.upload.addEventListener("progress", (event) => {
        if (onProgress) onProgress({ loaded: event.loaded, total: event.lengthComputable ? event.total : body.size });
      });
      request.addEventListener("load", () => resolve(request));
      request.addEventListener("error", () => reject(new TypeError("network error")));
      request.addEventListener("abort", () => reject(new DOMException("upload cancelled", "AbortError")));
      if (signal) {
        if (signal.aborted) return request.abort();
        signal.addEventListener("abort", () => request.abort(), { once: true });
      }
      request.send(body);
    });
    let parsed = {};
    try {
      parsed = JSON.parse(response.responseText || "{}");
    } catch {
      // not JSON (a proxy's error page): keep the status alone
    }
    if (response.status >= 200 && response.status < 300) return parsed;
    const retryAfter = Number(response.getResponseHeader("retry-after")) || null;
    const code = parsed.code || (response.status === 429 ? "rate_limited" : null);
    const error = new ApiError(response.status, code, parsed.detail, parsed.extra, retryAfter);
    if (error.code === "csrf_failed" && attempt === 0) continue;
    throw error;
  }
}

let mePromise = null;

/** The logged-in user ({id, username, roles, ...}) or null; asked once per page. */
export function currentUser() {
  if (!mePromise) {
    mePromise = api("/api/auth/me").catch((error) => {
      if (error instanceof ApiError && error.status === 401) return null;
      throw error;
    });
  }
  return mePromise;
}

export function hasRole(user, ...roles) {
  return Boolean(user) && roles.some((role) => user.roles.includes(role));
}

/** Every item of a paginated list endpoint ({items, limit, offset}), up to `max`. */
export async function allPages(path, { pageSize = 100, max = 1000 } = {}) {
  const items = [];
  const joiner = path.includes("?") ? "&" : "?";
  for (let offset = 0; offset < max; offset += pageSize) {
    const page = await api(`${path}${joiner}limit=${pageSize}&offset=${offset}`);
    items.push(...page.items);
    if (page.items.length < pageSize) break;
  }
  return items;
}

export async function logout() {
  await api("/api/auth/logout", { method: "POST" });
  mePromise = Promise.resolve(null);
}
