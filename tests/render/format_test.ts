import assert from "node:assert/strict";
import fc from "fast-check";
import {
  bytesBinary,
  bytesDecimal,
  clockDuration,
  commas,
  compactCount,
  ctime,
  fixed,
  humanDuration,
  padEnd,
  padStart,
  pyFloat,
  sciE,
  sciLower,
  timeOfDay,
  timestamp,
  timestampMs,
} from "../../lib/render/format.ts";

Deno.test("commas() groups thousands", () => {
  const cases: [number, string][] = [
    [0, "0"],
    [7, "7"],
    [999, "999"],
    [1000, "1,000"],
    [12345, "12,345"],
    [123456, "123,456"],
    [1234567, "1,234,567"],
    [8030261248, "8,030,261,248"],
    [-999, "-999"],
    [-1000, "-1,000"],
    [-1234567, "-1,234,567"],
    [1234.6, "1,235"],
  ];
  for (const [n, want] of cases) assert.equal(commas(n), want, `commas(${n})`);
});

Deno.test("commas() matches toLocaleString('en-US') for integers", () => {
  fc.assert(
    fc.property(fc.integer({ min: -1e15, max: 1e15 }), (n) => {
      assert.equal(commas(n), n.toLocaleString("en-US"));
    }),
  );
});

Deno.test("fixed() gives toFixed's digits for known values", () => {
  const cases: [number, number, string][] = [
    [1234.5678, 2, "1234.57"],
    [2.581734, 4, "2.5817"],
    [3, 4, "3.0000"],
    [0.1 + 0.2, 6, "0.300000"],
    [1e-7, 3, "0.000"],
    [-1234.5, 1, "-1234.5"],
    [1e16, 2, "10000000000000000.00"], // past 9e15 it falls back to toFixed
  ];
  for (const [x, d, want] of cases) {
    assert.equal(fixed(x, d), want, `fixed(${x}, ${d})`);
    assert.equal(x.toFixed(d), want, `toFixed(${x}, ${d})`);
  }
});

Deno.test("fixed() rounds exact ties to even, as Python's format does", () => {
  const cases: [number, number, string][] = [
    [0.5, 0, "0"],
    [1.5, 0, "2"],
    [2.5, 0, "2"],
    [-2.5, 0, "-2"],
    [0.125, 2, "0.12"],
    [0.375, 2, "0.38"],
    [-0.125, 2, "-0.12"],
    [1.0625, 3, "1.062"],
    [10.125, 2, "10.12"],
    // not ties in binary: the digits below decide, as in Python
    [1.45, 1, "1.4"],
    [2.675, 2, "2.67"],
    [0.045, 2, "0.04"],
    // small negatives keep their sign
    [-0.03, 1, "-0.0"],
    [-0, 1, "-0.0"],
  ];
  for (const [x, d, want] of cases) assert.equal(fixed(x, d), want, `fixed(${x}, ${d})`);
});

/** Python's '{:.{d}f}' computed exactly from the double's bits (an independent reference). */
function pythonFixed(x: number, d: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const negative = bits >> 63n === 1n;
  const biased = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  const mant = biased === 0 ? frac : frac | (1n << 52n);
  const e2 = (biased === 0 ? 1 : biased) - 1075;
  let q: bigint;
  const num = mant * 10n ** BigInt(d);
  if (e2 >= 0) q = num << BigInt(e2);
  else {
    const den = 1n << BigInt(-e2);
    q = num / den;
    const twice = 2n * (num % den);
    if (twice > den || (twice === den && q % 2n === 1n)) q += 1n;
  }
  let digits = q.toString().padStart(d + 1, "0");
  if (d > 0) digits = digits.slice(0, -d) + "." + digits.slice(-d);
  return (negative ? "-" : "") + digits;
}

function nextUp(x: number): number {
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, x);
  const b = v.getBigInt64(0);
  v.setBigInt64(0, x >= 0 ? b + 1n : b - 1n);
  return v.getFloat64(0);
}

Deno.test("fixed() equals Python's exact rounding for any double in ±1e9", () => {
  fc.assert(
    fc.property(fc.double({ min: -1e9, max: 1e9, noNaN: true }), fc.nat({ max: 6 }), (x, d) => {
      assert.equal(fixed(x, d), pythonFixed(x, d), `fixed(${x}, ${d})`);
    }),
    { numRuns: 5000 },
  );
});

Deno.test("fixed() equals Python's rounding on binary fractions and a few ulps from ties", () => {
  const dyadic = fc.tuple(fc.integer({ min: -1e9, max: 1e9 }), fc.nat({ max: 20 }))
    .map(([m, k]) => m / 2 ** k);
  const nearTie = fc.tuple(
    fc.integer({ min: -1e6, max: 1e6 }),
    fc.nat({ max: 4 }),
    fc.integer({ min: -3, max: 3 }),
  ).map(([k, d, ulps]) => {
    let x = (k + 0.5) / 10 ** d;
    for (let i = 0; i < Math.abs(ulps); i++) x = ulps > 0 ? nextUp(x) : -nextUp(-x);
    return x;
  });
  fc.assert(
    fc.property(fc.oneof(dyadic, nearTie), fc.nat({ max: 6 }), (x, d) => {
      assert.equal(fixed(x, d), pythonFixed(x, d), `fixed(${x}, ${d})`);
    }),
    { numRuns: 5000 },
  );
});

Deno.test("sciE() matches Python's '{:.6E}'", () => {
  const cases: [number, string][] = [
    [1.5e-4, "1.500000E-04"],
    [2.581734, "2.581734E+00"],
    [1.499987e-4, "1.499987E-04"],
    [9.9999996e-5, "1.000000E-04"],
    [0.3 - 0.2, "1.000000E-01"],
    [1e23, "1.000000E+23"],
    [9.9999995, "9.999999E+00"],
    [5e-324, "4.940656E-324"],
    [3e-322, "3.013800E-322"],
    [0, "0.000000E+00"],
    [-1.5e-4, "-1.500000E-04"],
    [-2.581734, "-2.581734E+00"],
    [-9.9999996e-5, "-1.000000E-04"],
    [6e-5, "6.000000E-05"],
    [2.5e-7, "2.500000E-07"],
    [1e-3, "1.000000E-03"],
    [0.1, "1.000000E-01"],
    [1234.5678, "1.234568E+03"],
    [123456789, "1.234568E+08"],
    [1e21, "1.000000E+21"],
    [1e300, "1.000000E+300"],
    [1.7976931348623157e308, "1.797693E+308"],
  ];
  for (const [x, want] of cases) assert.equal(sciE(x), want, `sciE(${x})`);
});

Deno.test("sciE() honours the digit count", () => {
  assert.equal(sciE(1.5e-4, 2), "1.50E-04");
  assert.equal(sciE(2.581734, 0), "3E+00");
  assert.equal(sciE(9.9999995, 2), "1.00E+01");
  assert.equal(sciE(0, 3), "0.000E+00");
});

Deno.test("sciLower() matches Python's '{:.4e}' and '{:.Ne}'", () => {
  assert.equal(sciLower(1.5e-4), "1.5000e-04");
  assert.equal(sciLower(1.499987e-4), "1.5000e-04");
  assert.equal(sciLower(2.581734), "2.5817e+00");
  assert.equal(sciLower(0), "0.0000e+00");
  assert.equal(sciLower(3e-4, 2), "3.00e-04");
  assert.equal(sciLower(-6e-5, 3), "-6.000e-05");
});

Deno.test("pyFloat() matches Python's repr of a float", () => {
  const cases: [number, string][] = [
    [0.0001, "0.0001"],
    [2.0, "2.0"],
    [-2.0, "-2.0"],
    [0, "0.0"],
    [0.5, "0.5"],
    [0.1, "0.1"],
    [123.456, "123.456"],
    [0.000123, "0.000123"],
    [1e-7, "1e-07"],
    [-1e-7, "-1e-07"],
    [1.5e-7, "1.5e-07"],
    [1.2345e-9, "1.2345e-09"],
    [1e-5, "1e-05"],
    [-1e-5, "-1e-05"],
    [1.9933333333333334e-5, "1.9933333333333334e-05"],
    [9.9999996e-5, "9.9999996e-05"],
    [1e16, "1e+16"],
    [-0, "-0.0"],
    [5e-324, "5e-324"],
    [1e15, "1000000000000000.0"],
    [1e21, "1e+21"],
    [1e22, "1e+22"],
    [1.5e300, "1.5e+300"],
  ];
  for (const [x, want] of cases) assert.equal(pyFloat(x), want, `pyFloat(${x})`);
});

Deno.test("compactCount() picks K, M, B and T", () => {
  const cases: [number, string][] = [
    [0, "0"],
    [999, "999"],
    [1500, "1.5K"],
    [1e6, "1.0M"],
    [124439808, "124.4M"],
    [1e9, "1.00B"],
    [8030261248, "8.03B"],
    [99.99e9, "99.99B"],
    [100e9, "100.0B"],
    [405e9, "405.0B"],
    [1e12, "1.00T"],
    [1.2e12, "1.20T"],
    [15e12, "15.00T"],
  ];
  for (const [n, want] of cases) assert.equal(compactCount(n), want, `compactCount(${n})`);
});

Deno.test("bytesDecimal() prints B, kB, MB, GB and TB", () => {
  const cases: [number, string][] = [
    [0, "0 B"],
    [999, "999 B"],
    [1000, "1.0 kB"],
    [1500, "1.5 kB"],
    [2.5e6, "2.5 MB"],
    [1e9, "1.00 GB"],
    [4.98e9, "4.98 GB"],
    [16.06e9, "16.06 GB"],
    [2.3e12, "2.30 TB"],
  ];
  for (const [b, want] of cases) assert.equal(bytesDecimal(b), want, `bytesDecimal(${b})`);
});

Deno.test("bytesBinary() prints KiB, MiB, GiB and TiB", () => {
  const cases: [number, string][] = [
    [2048, "2.0 KiB"],
    [5 * 1024 ** 2, "5.0 MiB"],
    [1024 ** 3, "1.00 GiB"],
    [79.18 * 1024 ** 3, "79.18 GiB"],
    [1024 ** 4, "1.00 TiB"],
    [1.5 * 1024 ** 4, "1.50 TiB"],
  ];
  for (const [b, want] of cases) assert.equal(bytesBinary(b), want, `bytesBinary(${b})`);
});

Deno.test("clockDuration() prints tqdm's MM:SS and H:MM:SS", () => {
  const cases: [number, string][] = [
    [0, "00:00"],
    [59.9, "00:59"],
    [7 * 60 + 22, "07:22"],
    [3599, "59:59"],
    [3600, "1:00:00"],
    [3922, "1:05:22"],
    [74 * 3600 + 11 * 60 + 5, "74:11:05"],
    [1000 * 3600, "1000:00:00"],
    [-5, "00:00"],
  ];
  for (const [s, want] of cases) assert.equal(clockDuration(s), want, `clockDuration(${s})`);
});

Deno.test("humanDuration() prints s, m s, h m and d h", () => {
  const cases: [number, string][] = [
    [0, "0s"],
    [42, "42s"],
    [59.5, "1m 00s"],
    [185, "3m 05s"],
    [3600, "1h 00m"],
    [2 * 3600 + 14 * 60 + 30, "2h 14m"],
    [86400, "1d 0h"],
    [3 * 86400 + 4 * 3600 + 100, "3d 4h"],
    [-3, "0s"],
  ];
  for (const [s, want] of cases) assert.equal(humanDuration(s), want, `humanDuration(${s})`);
});

/** "YYYY-MM-DD HH:MM:SS,mmm" from Date, independent of the memoized implementation. */
function referenceStamp(ms: number, tz: number): string {
  return new Date(ms + tz * 60000).toISOString().slice(0, 23).replace("T", " ").replace(
    ".",
    ",",
  );
}

const instant = fc.integer({ min: 0, max: 4e12 });
const tzOffset = fc.integer({ min: -720, max: 840 });

Deno.test("timestamp() and timestampMs() agree with Date for any instant and offset", () => {
  fc.assert(
    fc.property(instant, tzOffset, (ms, tz) => {
      const want = referenceStamp(ms, tz);
      assert.equal(timestampMs(ms, tz), want);
      assert.equal(timestamp(ms, tz), want.slice(0, 19));
      assert.equal(timeOfDay(ms, tz), want.slice(11, 19));
    }),
    { numRuns: 5000 },
  );
});

Deno.test("timestamp() stays right across midnight and offset changes in sequence", () => {
  fc.assert(
    fc.property(
      instant,
      fc.array(fc.tuple(fc.integer({ min: -3 * 86400000, max: 3 * 86400000 }), tzOffset), {
        minLength: 1,
        maxLength: 30,
      }),
      (start, steps) => {
        let ms = start;
        for (const [delta, tz] of steps) {
          ms = Math.max(0, ms + delta);
          assert.equal(timestampMs(ms, tz), referenceStamp(ms, tz));
        }
      },
    ),
  );
});

Deno.test("timestamp() prints known instants", () => {
  const t = Date.UTC(2026, 10, 26, 10, 0, 0);
  assert.equal(timestamp(t, 0), "2026-11-26 10:00:00");
  assert.equal(timestamp(t, 60), "2026-11-26 11:00:00");
  assert.equal(timestamp(t, -660), "2026-11-25 23:00:00");
  assert.equal(timestamp(t - 1, 0), "2026-11-26 09:59:59");
  assert.equal(timestampMs(t + 7, 0), "2026-11-26 10:00:00,007");
  assert.equal(timestampMs(t + 45, 0), "2026-11-26 10:00:00,045");
  assert.equal(timestampMs(t + 123, 0), "2026-11-26 10:00:00,123");
  assert.equal(timestampMs(0, 0), "1970-01-01 00:00:00,000");
});

Deno.test("ctime() prints the nvidia-smi header date", () => {
  assert.equal(ctime(Date.UTC(2026, 10, 26, 10, 0, 0), 0), "Thu Nov 26 10:00:00 2026");
  assert.equal(ctime(Date.UTC(2026, 10, 6, 23, 30, 5), 60), "Sat Nov  7 00:30:05 2026");
  assert.equal(ctime(0, 0), "Thu Jan  1 00:00:00 1970");
});

Deno.test("ctime() agrees with Date.toUTCString() for any instant and offset", () => {
  fc.assert(
    fc.property(instant, tzOffset, (ms, tz) => {
      // "Thu, 26 Nov 2026 10:00:00 GMT" → "Thu Nov 26 10:00:00 2026"
      const [dow, day, mon, year, time] = new Date(ms + tz * 60000).toUTCString()
        .replace(",", "").split(" ");
      assert.equal(ctime(ms, tz), `${dow} ${mon} ${day!.replace(/^0/, " ")} ${time} ${year}`);
    }),
  );
});

Deno.test("padEnd() and padStart() pad to a width and leave longer text alone", () => {
  assert.equal(padEnd("ab", 4), "ab  ");
  assert.equal(padStart("ab", 4), "  ab");
  assert.equal(padEnd("abcdef", 4), "abcdef");
  assert.equal(padStart("abcdef", 4), "abcdef");
});
