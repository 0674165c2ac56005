/** `buf` cut at the given fractions of its length (as a socket might deliver it): the reads, in order. */
export function splitAt(buf: Buffer, fractions: readonly number[]): Buffer[] {
  const at = [...new Set(fractions.map((f) => Math.floor(f * buf.length)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let prev = 0;
  for (const c of [...at, buf.length]) {
    if (c > prev) parts.push(buf.subarray(prev, c));
    prev = c;
  }
  return parts;
}
