/**
 * mulberry32: a small deterministic pseudo-random generator, so every generated test case (hostile
 * configs, property-test configs, random YAML documents) is the same on every run and a failing
 * one can be regenerated from its seed.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
