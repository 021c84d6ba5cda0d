// A tiny step runner for the node tests (undici.mjs, sluicejs.mjs): each step prints ok/FAIL with the stack;
// finish() prints "N passed, N failed" and exits 1 on any failure.
let passed = 0, failed = 0;

export async function step(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok    ${name}`);
  } catch (err) {
    failed++;
    console.log(`FAIL  ${name}\n      ${String(err.stack || err).split('\n').join('\n      ')}`);
  }
}

export function assert(cond, msg) { if (!cond) throw new Error(msg); }

export function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
