/** A byte count as people read it: "512 bytes", "1.5 KiB", "12 MiB". */
export function formatBytes(n: number): string {
  return n >= 1 << 20 ? `${+(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${+(n / 1024).toFixed(1)} KiB` : `${n} bytes`;
}
