// Baseline: a Deno hello world that stays alive a second so its memory can be read.
// deno-lint-ignore no-console
console.log("hello, world");
await new Promise((r) => setTimeout(r, 1000));
