// A device fingerprint from signals that stay the same across visits (canvas rendering, screen, CPU count,
// platform, languages, time zone), hashed so that none of them is sent as such. It only helps the fraud
// checks link votes cast from one device; the server treats a missing or odd value as "unknown".

function canvasSignal() {
  try {
    const canvas = document.createElement("canvas");
    canvas.width = 240;
    canvas.height = 60;
    const context = canvas.getContext("2d");
    if (!context) return "no-canvas";
    // Text and blending render slightly differently across GPUs, fonts and drivers.
    context.textBaseline = "top";
    context.font = "16px 'Arial'";
    context.fillStyle = "#f60";
    context.fillRect(100, 1, 62, 20);
    context.fillStyle = "#069";
    context.fillText("Ovation \u266b 1.0 <canvas>", 2, 15);
    context.fillStyle = "rgba(102, 204, 0, 0.7)";
    context.fillText("Ovation \u266b 1.0 <canvas>", 4, 17);
    context.globalCompositeOperation = "multiply";
    context.beginPath();
    context.arc(50, 30, 20, 0, Math.PI * 2);
    context.fill();
    return canvas.toDataURL();
  } catch {
    return "canvas-error";
  }
}

export function timeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || null;
  } catch {
    return null;
  }
}

function signals() {
  return [
    canvasSignal(),
    `${screen.width}x${screen.height}x${screen.colorDepth}`,
    String(navigator.hardwareConcurrency || ""),
    navigator.platform || "",
    (navigator.languages || [navigator.language]).join(","),
    timeZone() || "",
  ].join("|");
}

function toHex(buffer) {
  return Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

// SubtleCrypto only exists in secure contexts (HTTPS or localhost). Elsewhere a plain 64-bit string hash
// stands in: enough to link a device, and no worse than nothing.
function fallbackHash(text) {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return `fb${(h1 >>> 0).toString(16).padStart(8, "0")}${(h2 >>> 0).toString(16).padStart(8, "0")}`;
}

let cached = null;

/** The fingerprint as hex (matches the API's ^[A-Za-z0-9+/=_-]{8,128}$), computed once per page. */
export function deviceFingerprint() {
  if (!cached) {
    const text = signals();
    cached =
      globalThis.crypto && crypto.subtle
        ? crypto.subtle
            .digest("SHA-256", new TextEncoder().encode(text))
            .then(toHex)
            .catch(() => fallbackHash(text))
        : Promise.resolve(fallbackHash(text));
  }
  return cached;
}
