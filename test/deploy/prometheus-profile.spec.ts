import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { Metrics } from '#libs/metrics';

const ROOT = process.cwd();
const yamlAt = (path: string): unknown => parse(readFileSync(join(ROOT, path), 'utf8'));

interface Compose {
  services: Record<
    string,
    { image?: string; profiles?: string[]; network_mode?: string; volumes?: string[]; secrets?: string[]; command?: string[] }
  >;
  secrets?: Record<string, { environment?: string }>;
}
interface ScrapeConfig {
  job_name: string;
  metrics_path: string;
  authorization?: { type: string; credentials_file: string };
  static_configs: { targets: string[] }[];
}
interface PrometheusConfig {
  rule_files: string[];
  scrape_configs: ScrapeConfig[];
}
interface AlertRules {
  groups: { name: string; rules: { alert: string; expr: string }[] }[];
}

/**
 * Docker does not run here: the `metrics` profile of docker-compose.yml and the Prometheus files it
 * mounts are checked as data instead. They parse; Prometheus gets the files and the token it needs;
 * it scrapes the API and a worker on their default addresses with the token; and every alert reads
 * only metrics the product exposes.
 */
describe('docker compose --profile metrics', () => {
  const compose = yamlAt('docker-compose.yml') as Compose;
  const prometheus = compose.services.prometheus;

  it('adds Prometheus to the metrics profile only, leaving the default services as they were', () => {
    expect(prometheus.profiles).toEqual(['metrics']);
    expect(prometheus.image).toMatch(/^prom\/prometheus:v\d+\.\d+\.\d+$/);
    expect(
      Object.entries(compose.services)
        .filter(([, service]) => !service.profiles)
        .map(([name]) => name)
        .sort(),
    ).toEqual(['postgres', 'redis']);
  });

  it('mounts files that exist, and hands Prometheus METRICS_TOKEN as the secret its config reads', () => {
    const mounts = (prometheus.volumes ?? []).filter((v) => v.startsWith('./')).map((v) => v.split(':'));
    expect(mounts.map(([, target]) => target).sort()).toEqual(['/etc/prometheus/alerts.yml', '/etc/prometheus/prometheus.yml']);
    for (const [source] of mounts) expect(existsSync(join(ROOT, source))).toBe(true);
    expect(prometheus.secrets).toEqual(['metrics_token']);
    expect(compose.secrets?.metrics_token).toEqual({ environment: 'METRICS_TOKEN' });
    expect(prometheus.command).toEqual(expect.arrayContaining(['--config.file=/etc/prometheus/prometheus.yml']));
  });

  it('scrapes the API and a worker at /metrics on their default addresses, with the metrics token', () => {
    const config = yamlAt('deploy/prometheus/prometheus.yml') as PrometheusConfig;
    expect(config.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
    const jobs = Object.fromEntries(config.scrape_configs.map((job) => [job.job_name, job]));
    expect(Object.keys(jobs).sort()).toEqual(['byok-api', 'byok-worker']);
    expect(jobs['byok-api'].static_configs.flatMap((c) => c.targets)).toEqual(['127.0.0.1:3000']);
    expect(jobs['byok-worker'].static_configs.flatMap((c) => c.targets)).toEqual(['127.0.0.1:9464']);
    for (const job of config.scrape_configs) {
      expect(job.metrics_path).toBe('/metrics');
      expect(job.authorization).toEqual({ type: 'Bearer', credentials_file: '/run/secrets/metrics_token' });
    }
  });

  it('alerts on metrics the product exposes, by their names', async () => {
    const rules = (yamlAt('deploy/prometheus/alerts.yml') as AlertRules).groups.flatMap((group) => group.rules);
    const families = [...(await new Metrics().exposition()).text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name]) => name);
    const exposed = new Set(families.flatMap((name) => [name, `${name}_bucket`, `${name}_count`, `${name}_sum`]));
    const referenced = rules.flatMap((rule) => [...rule.expr.matchAll(/\b(byok_[a-z_]+)\b/g)].map(([, name]) => name));
    expect(rules.length).toBeGreaterThan(5);
    expect(referenced.length).toBeGreaterThan(10);
    expect(referenced.filter((name) => !exposed.has(name))).toEqual([]);
    expect(new Set(rules.map((rule) => rule.alert)).size).toBe(rules.length);
  });
});
