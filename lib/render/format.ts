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
 * Python's `'{:.{d}f}'.format(x)` in plain JavaScript: correctly rounded, exact ties to even,
 * "-0.0" for small negatives. A fast integer path serves the common case (V8's toFixed is a
 * runtime call, and instant mode formats millions of numbers); values near a rounding tie and
 * outside the exact range take the exact path through toFixed's decimal expansion.
 */
export function fixed(x: number, d: number): string {
  const n = roundScaled(x, d);
  if (n < 0) return exactFixed(x, d);
  const sign = isNegative(x) ? "-" : "";
  if (d === 0) return sign + small(n);
  const p = POW10[d] as number;
  const ip = Math.floor(n / p);
  const fp = n - ip * p;
  return sign + small(ip) + "." + padded(fp, d);
}

/**
 * round(|x|·10^d) when the fast integer path is exact, else −1 (a near-tie, a huge value or
 * too many digits: the caller takes the exact path). Shared by `fixed` and the byte writer so
 * both print the same digits.
 */
export function roundScaled(x: number, d: number): number {
  if (d > 6) return -1;
  const ax = x < 0 ? -x : x;
  const scaled = ax * (POW10[d] as number);
  // past 1e13 the integer split could be off by an ulp
  if (!(scaled < 1e13)) return -1;
  const fl = Math.floor(scaled);
  const frac = scaled - fl;
  if (frac > 0.499999 && frac < 0.500001) return -1;
  return frac > 0.5 ? fl + 1 : fl;
}

/** True for negative numbers and −0 (Python prints "-0.0"). */
export function isNegative(x: number): boolean {
  return x < 0 || (x === 0 && 1 / x < 0);
}

export const POWERS_OF_TEN: readonly number[] = POW10;

const SMALL: string[] = [];
const PADDED: string[][] = [[], [], [], [], []];

/** Decimal text of a non-negative integer; below 10,000 from a table built on first use. */
function small(n: number): string {
  if (n >= 10000) return "" + n;
  if (SMALL.length === 0) { for (let i = 0; i < 10000; i++) SMALL.push(String(i)); }
  return SMALL[n] as string;
}

/** `f` as exactly `d` digits with leading zeros (tables up to 4 digits). */
function padded(f: number, d: number): string {
  if (d > 4) {
    const t = "" + f;
    return t.length < d ? ZEROS.slice(0, d - t.length) + t : t;
  }
  const table = PADDED[d] as string[];
  if (table.length === 0) {
    const n = POW10[d] as number;
    for (let i = 0; i < n; i++) table.push(String(i).padStart(d, "0"));
  }
  return table[f] as string;
}

/** The exact path of `fixed`: toFixed rounds correctly except that exact ties go up. */
function exactFixed(x: number, d: number): string {
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21 || d > 20) return x.toFixed(Math.min(d, 100));
  const ax = Math.abs(x);
  const sign = x < 0 || Object.is(x, -0) ? "-" : "";
  const long = ax.toFixed(Math.min(100, d + 40)); // the exact decimal digits of the double
  const dot = long.indexOf(".");
  const tail = long.slice(dot + 1 + d);
  const isTie = tail[0] === "5" && /^5?0*$/.test(tail);
  if (!isTie) return sign + ax.toFixed(d);
  // exact tie: keep the last kept digit if it is even, else round up (to even)
  const kept = d === 0 ? long.slice(0, dot) : long.slice(0, dot + 1 + d);
  const last = Number(kept[kept.length - 1]);
  return sign + (last % 2 === 0 ? kept : ax.toFixed(d));
}

/** Python `{:.{d}E}`: 1.5e-4 → "1.500000E-04". */
export function sciE(x: number, digits = 6): string {
  return sci(x, digits, "E");
}

function sci(x: number, digits: number, e: string): string {
  if (!Number.isFinite(x)) return String(x);
  const ax = x < 0 ? -x : x;
  if (ax === 0 || ax < 1e-300 || ax > 1e300) {
    const [mant, ex] = x.toExponential(digits).split("e") as [string, string];
    const exp = Number(ex);
    const a = exp < 0 ? -exp : exp;
    return `${mant}${e}${exp < 0 ? "-" : "+"}${a < 10 ? "0" + a : a}`;
  }
  let exp = decade(ax);
  let m = fixed(mantissa(ax, exp), digits);
  if (m.charCodeAt(0) === 49 && m.charCodeAt(1) === 48) m = fixed(mantissa(ax, ++exp), digits); // "10…": rounding carried
  const a = exp < 0 ? -exp : exp;
  return (x < 0 ? "-" : "") + m + e + (exp < 0 ? "-" : "+") + (a < 100 ? TWO[a] : a);
}

let lastExp = 0;

/**
 * The decimal exponent e with 1 ≤ ax/10^e < 10 (ax > 0, normal). Consecutive values (a
 * learning rate, step after step) share a decade, so the last one is tried first.
 */
export function decade(ax: number): number {
  let exp = lastExp;
  const mant = mantissa(ax, exp);
  if (mant < 1 || mant >= 10) {
    exp = Math.floor(Math.log10(ax));
    const m = mantissa(ax, exp);
    if (m < 1) exp--;
    else if (m >= 10) exp++;
  }
  lastExp = exp;
  return exp;
}

/** 10^i for i in 0…330, looked up (correctly rounded, and faster than ** in a hot loop). */
const POW: number[] = Array.from({ length: 331 }, (_, i) => Number(`1e${i}`));

/** ax ÷ 10^exp, dividing or multiplying by an exact power so the result rounds once. */
export function mantissa(ax: number, exp: number): number {
  return exp >= 0 ? ax / (POW[exp] as number) : ax * (POW[-exp] as number);
}

/** Python `{:.{d}e}` (lower-case e, two-digit exponent). */
export function sciLower(x: number, digits = 4): string {
  return sci(x, digits, "e");
}

/** Python's repr of a float: shortest round-trip digits, exponent form below 1e-4 and ≥ 1e16. */
export function pyFloat(x: number): string {
  if (Object.is(x, -0)) return "-0.0";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : x < 0 ? "-inf" : "nan";
  const ax = Math.abs(x);
  if (ax !== 0 && (ax < 1e-4 || ax >= 1e16)) {
    const [mant, e] = x.toExponential().split("e") as [string, string];
    const exp = Number(e);
    const a = Math.abs(exp);
    return `${mant}e${exp < 0 ? "-" : "+"}${a < 10 ? "0" + a : a}`;
  }
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

/** Compact parameter count: 8030261248 → "8.03B", 124439808 → "124.4M". */
export function compactCount(n: number): string {
  // decide the unit after rounding, so 999,999 reads "1.0M" and not "1000.0K"
  if (n >= 0.9995e12) return `${fixed(n / 1e12, 2)}T`;
  if (n >= 0.99995e9) return `${fixed(n / 1e9, n >= 0.99995e11 ? 1 : 2)}B`;
  if (n >= 0.99995e6) return `${fixed(n / 1e6, 1)}M`;
  if (n >= 999.5) return `${fixed(n / 1e3, 1)}K`;
  return String(Math.round(n));
}

/** Decimal bytes as storage tools print them: "4.98 GB", "16.06 GB", "2.30 TB". */
export function bytesDecimal(b: number): string {
  if (b >= 0.995e12) return `${fixed(b / 1e12, 2)} TB`;
  if (b >= 0.995e9) return `${fixed(b / 1e9, 2)} GB`;
  if (b >= 0.99995e6) return `${fixed(b / 1e6, 1)} MB`;
  if (b >= 999.5) return `${fixed(b / 1e3, 1)} kB`;
  return `${Math.round(b)} B`;
}

/** Binary bytes: "79.18 GiB". */
export function bytesBinary(b: number): string {
  const G = 1024 ** 3;
  if (b >= 1024 * G * 0.99995) return `${fixed(b / (1024 * G), 2)} TiB`;
  if (b >= G * 0.995) return `${fixed(b / G, 2)} GiB`;
  if (b >= 1024 ** 2 * 0.99995) return `${fixed(b / 1024 ** 2, 1)} MiB`;
  return `${fixed(b / 1024, 1)} KiB`;
}

const TWO: string[] = Array.from({ length: 100 }, (_, i) => (i < 10 ? "0" : "") + i);

function two(n: number): string {
  return n < 100 ? TWO[n] as string : String(n);
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

let isoDay = NaN;
let isoDate = "";

/** ISO 8601 in UTC with milliseconds: "2026-11-26T09:00:00.123Z" (memoized per day). */
export function isoUtc(ms: number): string {
  const day = Math.floor(ms / 86400000);
  if (day !== isoDay) {
    isoDay = day;
    isoDate = new Date(day * 86400000).toISOString().slice(0, 11);
  }
  const t = Math.floor(ms) - day * 86400000;
  const s = Math.floor(t / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor(s / 60) - h * 60;
  const milli = t - s * 1000;
  return isoDate + two(h) + ":" + two(m) + ":" + two(s - h * 3600 - m * 60) + "." +
    (milli < 10 ? "00" : milli < 100 ? "0" : "") + milli + "Z";
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
