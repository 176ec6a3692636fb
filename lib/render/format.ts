/** Number, size, duration and timestamp formatting, written for speed (instant mode). */

/** Integer with thousands separators: 1234567 → "1,234,567". */
export function commas(n: number): string {
  const neg = n < 0;
  let s = String(Math.round(Math.abs(n)));
  if (s.length > 3) {
    let out = "";
    let i = s.length % 3 || 3;
    out = s.slice(0, i);
    for (; i < s.length; i += 3) out += "," + s.slice(i, i + 3);
    s = out;
  }
  return neg ? "-" + s : s;
}

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
const ZEROS = "000000000000000";

/**
 * `x.toFixed(d)` in plain JavaScript (V8's toFixed is a runtime call, and instant mode formats
 * millions of numbers). Falls back to toFixed outside the exactly representable range.
 */
export function fixed(x: number, d: number): string {
  const p = POW10[d];
  if (p === undefined || !(Math.abs(x) * p < 9e15)) return x.toFixed(d);
  const n = Math.round(Math.abs(x) * p);
  const sign = x < 0 && n > 0 ? "-" : "";
  if (d === 0) return sign + n;
  let digits = String(n);
  if (digits.length <= d) digits = ZEROS.slice(0, d + 1 - digits.length) + digits;
  const cut = digits.length - d;
  return sign + digits.slice(0, cut) + "." + digits.slice(cut);
}

/** Python `{:.{d}E}`: 1.5e-4 → "1.500000E-04". */
export function sciE(x: number, digits = 6): string {
  if (x === 0 || !Number.isFinite(x)) {
    return x === 0 ? `${fixed(0, digits)}E+00` : String(x);
  }
  const ax = Math.abs(x);
  let exp = Math.floor(Math.log10(ax));
  let mant = ax / 10 ** exp;
  let m = fixed(mant, digits);
  if (m.startsWith("10")) {
    exp += 1;
    mant = ax / 10 ** exp;
    m = fixed(mant, digits);
  } else if (mant < 1) {
    exp -= 1;
    m = fixed(ax / 10 ** exp, digits);
  }
  const a = Math.abs(exp);
  return `${x < 0 ? "-" : ""}${m}E${exp < 0 ? "-" : "+"}${a < 10 ? "0" + a : a}`;
}

/** Python `{:.{d}e}` (lower-case e, two-digit exponent). */
export function sciLower(x: number, digits = 4): string {
  return sciE(x, digits).replace("E", "e");
}

/** Python's repr of a float (shortest round-trip, "1e-05" style exponents). */
export function pyFloat(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return x.toFixed(1);
  const s = String(x);
  const e = s.indexOf("e");
  if (e < 0) {
    // Python switches to exponent notation below 1e-4
    if (Math.abs(x) < 1e-4 && x !== 0) return pyFloat(Number(x.toExponential()));
    return s;
  }
  const mant = s.slice(0, e);
  const exp = Number(s.slice(e + 1));
  if (exp >= -4 && exp < 16) return String(x);
  const a = Math.abs(exp);
  return `${mant}e${exp < 0 ? "-" : "+"}${a < 10 ? "0" + a : a}`;
}

/** Compact parameter count: 8030261248 → "8.03B", 124439808 → "124.4M". */
export function compactCount(n: number): string {
  if (n >= 1e12) return `${(n / 1e12).toFixed(2)}T`;
  if (n >= 1e9) return `${(n / 1e9).toFixed(n >= 1e11 ? 1 : 2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

/** Decimal bytes as storage tools print them: "4.98 GB", "16.06 GB", "2.30 TB". */
export function bytesDecimal(b: number): string {
  if (b >= 1e12) return `${(b / 1e12).toFixed(2)} TB`;
  if (b >= 1e9) return `${(b / 1e9).toFixed(2)} GB`;
  if (b >= 1e6) return `${(b / 1e6).toFixed(1)} MB`;
  if (b >= 1e3) return `${(b / 1e3).toFixed(1)} kB`;
  return `${Math.round(b)} B`;
}

/** Binary bytes: "79.18 GiB". */
export function bytesBinary(b: number): string {
  const G = 1024 ** 3;
  if (b >= 1024 * G) return `${(b / (1024 * G)).toFixed(2)} TiB`;
  if (b >= G) return `${(b / G).toFixed(2)} GiB`;
  if (b >= 1024 ** 2) return `${(b / 1024 ** 2).toFixed(1)} MiB`;
  return `${(b / 1024).toFixed(1)} KiB`;
}

function two(n: number): string {
  return n < 10 ? "0" + n : String(n);
}

/** tqdm's interval: "07:22", "1:05:22", "3 days, 2:11:05" is shown as "74:11:05". */
export function clockDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}:${two(m)}:${two(sec)}` : `${two(m)}:${two(sec)}`;
}

/** Human duration: "42s", "3m 05s", "2h 14m", "3d 4h". */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${two(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${two(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** Local-time parts of an epoch-ms instant, with the time-zone offset (minutes east of UTC). */
function parts(ms: number, tzMinutes: number) {
  const d = new Date(ms + tzMinutes * 60000);
  return {
    y: d.getUTCFullYear(),
    mo: d.getUTCMonth() + 1,
    d: d.getUTCDate(),
    h: d.getUTCHours(),
    mi: d.getUTCMinutes(),
    s: d.getUTCSeconds(),
    ms: d.getUTCMilliseconds(),
    dow: d.getUTCDay(),
  };
}

let cachedDay = NaN;
let cachedTz = NaN;
let cachedDate = "";

/** "2026-11-26 10:00:00". The date part is computed once a day; the time by arithmetic. */
export function timestamp(ms: number, tz: number): string {
  const local = ms + tz * 60000;
  const day = Math.floor(local / 86400000);
  if (day !== cachedDay || tz !== cachedTz) {
    const p = parts(day * 86400000, 0);
    cachedDay = day;
    cachedTz = tz;
    cachedDate = `${p.y}-${two(p.mo)}-${two(p.d)} `;
  }
  const s = Math.floor((local - day * 86400000) / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor(s / 60) - h * 60;
  const sec = s - h * 3600 - m * 60;
  return cachedDate + two(h) + ":" + two(m) + ":" + two(sec);
}

/** "2026-11-26 10:00:00,123" (Python logging asctime). */
export function timestampMs(ms: number, tz: number): string {
  const m = Math.floor(ms) - Math.floor(ms / 1000) * 1000;
  return `${timestamp(ms, tz)},${m < 10 ? "00" + m : m < 100 ? "0" + m : m}`;
}

/** "10:00:00". */
export function timeOfDay(ms: number, tz: number): string {
  const p = parts(ms, tz);
  return `${two(p.h)}:${two(p.mi)}:${two(p.s)}`;
}

/** glog-style month-day "1126" and "10:00:00.123456" (microseconds from the ms clock). */
export function glogParts(ms: number, tz: number, micro: number): { mmdd: string; hms: string } {
  const p = parts(ms, tz);
  return {
    mmdd: two(p.mo) + two(p.d),
    hms: `${two(p.h)}:${two(p.mi)}:${two(p.s)}.${String(p.ms).padStart(3, "0")}${
      String(micro % 1000).padStart(3, "0")
    }`,
  };
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** ctime-style "Thu Nov 26 10:00:00 2026" (nvidia-smi header). */
export function ctime(ms: number, tz: number): string {
  const p = parts(ms, tz);
  return `${DAYS[p.dow]} ${MONTHS[p.mo - 1]} ${String(p.d).padStart(2, " ")} ${two(p.h)}:${
    two(p.mi)
  }:${two(p.s)} ${p.y}`;
}

/** Pad right / left to a visible width (plain text). */
export function padEnd(s: string, n: number): string {
  return s.length >= n ? s : s + " ".repeat(n - s.length);
}

export function padStart(s: string, n: number): string {
  return s.length >= n ? s : " ".repeat(n - s.length) + s;
}
