/**
 * The few Prometheus metric kinds the server needs, written in the text exposition format
 * (version 0.0.4) by hand: a client library would be a dependency for ~80 lines of formatting.
 */

export type Labels = Record<string, string>;

interface Metric {
  render(): string;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  return entries.length ? `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
}

function formatValue(n: number): string {
  return Number.isFinite(n) ? String(n) : n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
}

function header(name: string, help: string, type: string): string {
  return `# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${name} ${type}\n`;
}

export class Counter implements Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string, readonly help: string) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = formatLabels(labels);
    const entry = this.values.get(key);
    if (entry) entry.value += by;
    else this.values.set(key, { labels, value: by });
  }

  get(labels: Labels = {}): number {
    return this.values.get(formatLabels(labels))?.value ?? 0;
  }

  render(): string {
    const lines = [...this.values.entries()].map(([key, { value }]) => `${this.name}${key} ${formatValue(value)}\n`);
    return header(this.name, this.help, 'counter') + lines.join('');
  }
}

/** A value read when scraped (queue depth, memory): never stale, nothing to keep in sync. */
export class Gauge implements Metric {
  constructor(readonly name: string, readonly help: string, private readonly read: () => number | Array<{ labels: Labels; value: number }>) {}

  render(): string {
    const v = this.read();
    const rows = typeof v === 'number' ? [{ labels: {}, value: v }] : v;
    return header(this.name, this.help, 'gauge') + rows.map((r) => `${this.name}${formatLabels(r.labels)} ${formatValue(r.value)}\n`).join('');
  }
}

export class Histogram implements Metric {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string, readonly buckets: readonly number[]) {}

  observe(labels: Labels, value: number): void {
    const key = formatLabels(labels);
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    // Stored per bucket; made cumulative when rendered, as the format requires.
    const i = this.buckets.findIndex((b) => value <= b);
    if (i >= 0) s.counts[i]++;
    s.sum += value;
    s.count++;
  }

  render(): string {
    let out = header(this.name, this.help, 'histogram');
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((b, i) => {
        cumulative += s.counts[i];
        out += `${this.name}_bucket${formatLabels({ ...s.labels, le: formatValue(b) })} ${cumulative}\n`;
      });
      out += `${this.name}_bucket${formatLabels({ ...s.labels, le: '+Inf' })} ${s.count}\n`;
      out += `${this.name}_sum${formatLabels(s.labels)} ${formatValue(s.sum)}\n`;
      out += `${this.name}_count${formatLabels(s.labels)} ${s.count}\n`;
    }
    return out;
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];

  add<M extends Metric>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }

  render(): string {
    return this.metrics.map((m) => m.render()).join('');
  }
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
