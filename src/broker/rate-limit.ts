/** Per-capability request rate limit (Capability.limits.ratePerMinute): a token bucket per key. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /** Take one request slot; false when the bucket is empty. */
  take(key: string, perMinute: number, now = Date.now()): boolean {
    if (!(perMinute > 0)) return true;
    const b = this.buckets.get(key) ?? { tokens: perMinute, at: now };
    b.tokens = Math.min(perMinute, b.tokens + ((now - b.at) * perMinute) / 60_000);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
