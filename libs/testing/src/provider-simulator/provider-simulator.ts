import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROVIDER_IDS, type ProviderId } from '#libs/common';
import { fingerprintForSimulator } from './fingerprint.js';
import { RATE_LIMIT_BURST } from './fault-markers.js';
import { anthropicWire } from './anthropic-wire.js';
import { azureOpenAiWire } from './azure-openai-wire.js';
import { geminiWire } from './gemini-wire.js';
import { type GatedRequest, type GateMatch, SimulatorGate } from './simulator-gate.js';
import { openAiWire } from './openai-wire.js';
import type {
  FailureKind,
  KeyStats,
  PresentedKey,
  RecordedRequest,
  ReportedUsage,
  ScriptedFailure,
  SimulatorOptions,
  SimulatorUrls,
  WireFormat,
  WireReply,
  WireRequest,
} from './simulator-types.js';

const WIRES: Record<ProviderId, WireFormat> = {
  openai: openAiWire,
  deepseek: openAiWire,
  gemini: geminiWire,
  anthropic: anthropicWire,
  'azure-openai': azureOpenAiWire,
  // a tenant's own server speaking OpenAI's API
  'custom-openai': openAiWire,
};
const KIND_OF_STATUS: Record<ScriptedFailure['status'], FailureKind> = {
  400: 'bad-request',
  401: 'invalid-key',
  403: 'permission-denied',
  429: 'rate-limited',
  500: 'server-error',
  503: 'overloaded',
};
const ROUTE = new RegExp(`^/(${PROVIDER_IDS.join('|')})(/.*)?$`);
const MAX_BODY_BYTES = 5 * 1024 * 1024;
const ANY_KEY = '*';
const EMPTY_STATS: KeyStats = { completions: 0, rateLimited: 0, maxInFlight: 0, inFlight: 0, firstCountedAt: 0, lastCountedAt: 0 };
/** `GET` here answers { keys: { [fingerprintForSimulator]: KeyStats } }. */
export const STATS_PATH = '/_simulator/stats';

/** The redirect statuses of RFC 9110 section 15.4. */
export type RedirectStatus = 301 | 302 | 303 | 307 | 308;

class MalformedBody extends Error {}

interface AnswerContext {
  wire: WireFormat;
  request: WireRequest;
  key: PresentedKey | undefined;
  gated: { provider: ProviderId; keyFingerprint: string | null; bodyText: string };
  malformed: boolean;
  provider: ProviderId;
}

/**
 * A real HTTP server on 127.0.0.1 that answers as OpenAI, DeepSeek (under `/deepseek`), Gemini
 * (under `/gemini`), Anthropic (under `/anthropic`), an Azure OpenAI resource (under `/azure-openai`)
 * and a tenant's OpenAI-compatible server (under `/custom-openai/v1`) do, so the real SDKs run end to end without a network. It records which key
 * reached it as a fingerprint only, and never prints anything.
 */
/** What each provider's model list offers unless SimulatorOptions.models says otherwise: the product's default models (PROVIDER_DEFAULTS). */
export const LISTED_MODELS: Readonly<Record<ProviderId, readonly string[]>> = {
  openai: ['gpt-4o-mini'],
  deepseek: ['deepseek-chat'],
  gemini: ['gemini-2.0-flash'],
  anthropic: ['claude-haiku-4-5'],
  // Azure: the resource's deployments (named after their model, as is common)
  'azure-openai': ['gpt-4o-mini'],
  'custom-openai': ['llama-3.1-8b-instruct'],
};

export class ProviderSimulator {
  readonly requests: RecordedRequest[] = [];
  private readonly reported: ReportedUsage[] = [];
  private server: Server | undefined;
  private otherOrigin: Server | undefined;
  private readonly validKeys = new Map<ProviderId, Set<string>>();
  private readonly scripted = new Map<ProviderId, (ScriptedFailure & { remaining: number })[]>();
  private latencyMs: number;
  private readonly latencyByProvider = new Map<ProviderId, number>();
  private readonly gates: SimulatorGate[] = [];
  private readonly listeners = new Set<(request: GatedRequest) => void>();
  // rate-limit burst markers already set off: a retried request carrying one does not start another
  private readonly bursts = new Set<string>();
  private faultsEnabled = true;
  private readonly redirects = new Map<ProviderId, { status: RedirectStatus; remaining: number }>();
  private rateLimit: { perWindow: number; windowMs: number } | undefined;
  // per key fingerprint: when its completions that counted against the rate limit arrived (ms)
  private readonly counted = new Map<string, number[]>();
  private readonly stats = new Map<string, KeyStats>();
  private readonly models = new Map<ProviderId, readonly string[]>();

  constructor(private readonly options: SimulatorOptions = {}) {
    for (const [provider, keys] of Object.entries(options.validKeys ?? {})) this.setValidKeys(provider as ProviderId, keys);
    this.latencyMs = options.latencyMs ?? 0;
    for (const [provider, ms] of Object.entries(options.latencyByProvider ?? {})) this.latencyByProvider.set(provider as ProviderId, ms);
    if (options.rpmPerKey) this.setKeyRateLimit(options.rpmPerKey, options.rateWindowMs);
    for (const [provider, models] of Object.entries(options.models ?? {})) this.setModels(provider as ProviderId, models);
  }

  /** The model ids `provider`'s model list endpoints offer from now on (OpenAI and DeepSeek GET /v1/models, Gemini GET /v1beta/models, Anthropic GET /v1/models and /v1/models/{id}). */
  setModels(provider: ProviderId, models: readonly string[]): void {
    this.models.set(provider, [...models]);
  }

  /**
   * Each key may make `perWindow` completion requests in any sliding `windowMs` (a minute: its RPM);
   * past that it is answered 429 in its provider's wire format, with the wait until the oldest leaves
   * the window as retry-after (OpenAI's and Anthropic's header, Gemini's RetryInfo). Requests answered 429 do not
   * count. `undefined` lifts the limit.
   */
  setKeyRateLimit(perWindow: number | undefined, windowMs = 60_000): void {
    this.rateLimit = perWindow ? { perWindow, windowMs } : undefined;
    this.counted.clear();
  }

  /** What the simulator saw of the key with this fingerprint (fingerprintForSimulator). */
  keyStats(keyFingerprint: string): KeyStats {
    return { ...(this.stats.get(keyFingerprint) ?? EMPTY_STATS) };
  }

  async start(): Promise<SimulatorUrls> {
    if (this.server) throw new Error('The provider simulator is already running');
    this.server = await listen(this.options.port ?? 0, (req, res) => void this.handle(req, res));
    // the other origin of `redirectNext` (another port is another origin, RFC 6454)
    this.otherOrigin = await listen(0, (req, res) => void this.handle(req, res));
    return this.urls;
  }

  async stop(): Promise<void> {
    const servers = [this.server, this.otherOrigin].filter((s): s is Server => s !== undefined);
    this.server = undefined;
    this.otherOrigin = undefined;
    for (const gate of this.gates) gate.open();
    await Promise.all(
      servers.map((server) => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // SDK clients keep connections alive; without this, close() waits for them to time out
        server.closeAllConnections();
        return closed;
      }),
    );
  }

  get urls(): SimulatorUrls {
    if (!this.server) throw new Error('The provider simulator is not running');
    const origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return {
      openaiBaseUrl: `${origin}/openai/v1`,
      deepseekBaseUrl: `${origin}/deepseek/v1`,
      geminiBaseUrl: `${origin}/gemini`,
      anthropicBaseUrl: `${origin}/anthropic`,
      azureOpenAiEndpoint: `${origin}/azure-openai`,
      customOpenAiBaseUrl: `${origin}/custom-openai/v1`,
    };
  }

  setValidKeys(provider: ProviderId, keys: readonly string[]): void {
    this.validKeys.set(provider, new Set(keys));
  }

  /** Global latency, or one provider's when `provider` is given (that one wins over the global). */
  setLatency(ms: number, provider?: ProviderId): void {
    if (provider) this.latencyByProvider.set(provider, ms);
    else this.latencyMs = ms;
  }

  /** The next `times` requests to `provider` fail as scripted, whatever key they carry. */
  failNext(provider: ProviderId, failure: ScriptedFailure): void {
    const queue = this.scripted.get(provider) ?? [];
    queue.push({ ...failure, remaining: failure.times ?? 1 });
    this.scripted.set(provider, queue);
  }

  /**
   * The next `times` requests to `provider` are answered with a redirect to the same path on
   * another origin (the simulator's second port), which answers as the provider would: a client that
   * follows succeeds, and the request it sent is recorded with that host (see `followedRedirects`),
   * key fingerprint included.
   */
  redirectNext(provider: ProviderId, options: { status?: RedirectStatus; times?: number } = {}): void {
    this.redirects.set(provider, { status: options.status ?? 307, remaining: options.times ?? 1 });
  }

  /** Requests that arrived on the other origin of `redirectNext`: a client followed a redirect. */
  followedRedirects(): RecordedRequest[] {
    const port = (this.otherOrigin?.address() as AddressInfo | null)?.port;
    return this.requests.filter((r) => port !== undefined && r.host === `127.0.0.1:${port}`);
  }

  requestsFor(provider: ProviderId): RecordedRequest[] {
    return this.requests.filter((r) => r.provider === provider);
  }

  /** Distinct key fingerprints that reached `provider`, in order of first use. */
  keysSeen(provider: ProviderId): string[] {
    return [...new Set(this.requestsFor(provider).flatMap((r) => (r.keyFingerprint ? [r.keyFingerprint] : [])))];
  }

  /** Forgets recorded requests and pending scripted failures; valid keys and latency stay. */
  clear(): void {
    this.requests.length = 0;
    this.reported.length = 0;
    this.scripted.clear();
    this.redirects.clear();
    this.counted.clear();
    for (const [fingerprint, stats] of this.stats)
      this.stats.set(fingerprint, { ...EMPTY_STATS, maxInFlight: stats.inFlight, inFlight: stats.inFlight });
  }

  /**
   * Holds every matching request (before it is answered) until the test lets it through with the
   * gate's `release` or `open`. Gates stay until `reset`.
   */
  gate(match: GateMatch = {}): SimulatorGate {
    const gate = new SimulatorGate(match);
    this.gates.push(gate);
    return gate;
  }

  /**
   * Calls `listener` with every request as it arrives (provider, key fingerprint, body text), before
   * any gate holds it, so a test can tally requests by a marker in their text (which tenant's record
   * a call carried) without the simulator keeping every body. Returns the function that removes it;
   * `reset` removes every listener.
   */
  onRequest(listener: (request: GatedRequest) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Whether fault markers (`[[sim:...]]`, see FAULT_MARKERS) are acted on; on by default. */
  setFaults(enabled: boolean): void {
    this.faultsEnabled = enabled;
  }

  /**
   * Back to the state after construction, for `afterEach`: requests and scripted failures forgotten,
   * latency as configured, every gate opened and removed, every request listener removed. Valid keys stay.
   */
  reset(): void {
    this.clear();
    this.bursts.clear();
    this.faultsEnabled = true;
    this.latencyMs = this.options.latencyMs ?? 0;
    this.setKeyRateLimit(this.options.rpmPerKey, this.options.rateWindowMs);
    this.latencyByProvider.clear();
    for (const [provider, ms] of Object.entries(this.options.latencyByProvider ?? {})) this.latencyByProvider.set(provider as ProviderId, ms);
    for (const gate of this.gates.splice(0)) gate.open();
    this.listeners.clear();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    // for a simulator in another process (the benchmarks): what it saw per key, by fingerprint only
    if (url.pathname === STATS_PATH) return send(res, { status: 200, body: { keys: Object.fromEntries(this.stats) } });
    const match = ROUTE.exec(url.pathname);
    if (!match) return send(res, { status: 404, body: { error: { message: 'No provider under this path' } } });
    const provider = match[1] as ProviderId;
    const wire = WIRES[provider];
    let body: unknown;
    let malformed = false;
    try {
      body = await readJson(req);
    } catch (error) {
      if (!(error instanceof MalformedBody)) return void res.destroy();
      malformed = true;
    }
    const request: WireRequest = {
      provider,
      method: req.method ?? 'GET',
      route: match[2] ?? '/',
      query: url.searchParams,
      headers: req.headers,
      body,
      faults: this.faultsEnabled,
      models: this.models.get(provider) ?? LISTED_MODELS[provider],
    };
    const key = wire.keyOf(request);
    const model = wire.modelOf(request);
    const apiVersion = wire.apiVersionOf?.(request);
    const keyFingerprint = key ? fingerprintForSimulator(key.value) : null;
    this.requests.push({
      provider,
      method: request.method,
      path: url.pathname,
      keyFingerprint,
      keyLocation: key?.location ?? null,
      headerNames: Object.keys(req.headers),
      ...(model ? { model } : {}),
      ...(apiVersion ? { apiVersion } : {}),
      host: req.headers.host ?? '',
      at: new Date(),
    });
    const gated: GatedRequest = { provider, keyFingerprint, bodyText: body === undefined ? '' : JSON.stringify(body) };
    for (const listener of this.listeners) listener(gated);
    const redirect = this.redirects.get(provider);
    const otherPort = (this.otherOrigin?.address() as AddressInfo | null)?.port;
    if (redirect && redirect.remaining > 0 && otherPort !== undefined && req.headers.host !== `127.0.0.1:${otherPort}`) {
      redirect.remaining -= 1;
      const location = `http://127.0.0.1:${otherPort}${url.pathname}${url.search}`;
      return send(res, { status: redirect.status, headers: { location }, body: { error: { message: 'Moved' } } });
    }
    const stats = gated.keyFingerprint ? this.statsOf(gated.keyFingerprint) : undefined;
    if (stats) {
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    }
    try {
      await this.answer(res, { wire, request, key, gated, malformed, provider });
    } finally {
      if (stats) stats.inFlight--;
    }
  }

  /** The answer after the key is known: gates, the key's rate limit, burst markers, latency, then the reply. */
  private async answer(res: ServerResponse, { wire, request, key, gated, malformed, provider }: AnswerContext): Promise<void> {
    for (const gate of this.gates) if (gate.matches(gated)) await gate.pass();
    const overLimit = request.method === 'POST' && gated.keyFingerprint ? this.overRateLimit(gated.keyFingerprint) : undefined;
    if (overLimit !== undefined) return send(res, wire.failure('rate-limited', request, overLimit));
    const burst = this.faultsEnabled ? RATE_LIMIT_BURST.exec(gated.bodyText) : null;
    if (burst && !this.bursts.has(burst[0])) {
      this.bursts.add(burst[0]);
      this.failNext(provider, { status: 429, times: Number(burst[1]), retryAfterSeconds: Number(burst[2]) });
    }
    const latency = this.latencyByProvider.get(provider) ?? this.latencyMs;
    if (latency > 0) await sleep(latency);
    const reply = malformed ? wire.failure('bad-request', request) : this.reply(wire, request, key);
    const usage = reply.status === 200 ? reportedUsage(reply.body) : undefined;
    if (usage) this.reported.push({ provider, keyFingerprint: gated.keyFingerprint, model: wire.modelOf(request) ?? '', ...usage });
    send(res, reply);
  }

  /**
   * The usage every answer reported, in the order the answers were sent, by key (fingerprintForSimulator)
   * when given: what the product's token accounting must add up to exactly.
   */
  usageReported(keyFingerprint?: string): ReportedUsage[] {
    return this.reported.filter((r) => keyFingerprint === undefined || r.keyFingerprint === keyFingerprint);
  }

  private statsOf(keyFingerprint: string): KeyStats {
    let stats = this.stats.get(keyFingerprint);
    if (!stats) this.stats.set(keyFingerprint, (stats = { ...EMPTY_STATS }));
    return stats;
  }

  /** Counts a completion against its key's sliding window: undefined when it may be answered, else the retry-after (s) of its 429. */
  private overRateLimit(keyFingerprint: string): number | undefined {
    const stats = this.statsOf(keyFingerprint);
    stats.completions++;
    if (!this.rateLimit) {
      stats.firstCountedAt ||= Date.now();
      stats.lastCountedAt = Date.now();
      return undefined;
    }
    const { perWindow, windowMs } = this.rateLimit;
    const now = Date.now();
    const times = (this.counted.get(keyFingerprint) ?? []).filter((at) => at > now - windowMs);
    this.counted.set(keyFingerprint, times);
    if (times.length < perWindow) {
      times.push(now);
      stats.firstCountedAt ||= now;
      stats.lastCountedAt = now;
      return undefined;
    }
    stats.rateLimited++;
    return Math.max(1, Math.ceil((times[0] + windowMs - now) / 1000));
  }

  private reply(wire: WireFormat, request: WireRequest, key: PresentedKey | undefined): WireReply {
    const failure = this.takeScriptedFailure(request.provider);
    if (failure) return wire.failure(KIND_OF_STATUS[failure.status], request, failure.retryAfterSeconds);
    if (!key) return wire.failure('missing-key', request);
    const accepted = this.validKeys.get(request.provider);
    if (!accepted || !(accepted.has(key.value) || accepted.has(ANY_KEY))) return wire.failure('invalid-key', request);
    return wire.answer(request);
  }

  private takeScriptedFailure(provider: ProviderId): ScriptedFailure | undefined {
    const queue = this.scripted.get(provider);
    const next = queue?.[0];
    if (!queue || !next) return undefined;
    next.remaining -= 1;
    if (next.remaining <= 0) queue.shift();
    return next;
  }
}

/** The tokens a reply body reports: OpenAI's `usage`, Anthropic's `usage` or Gemini's `usageMetadata`. */
function reportedUsage(body: unknown): { inputTokens: number; outputTokens: number } | undefined {
  const b = body as {
    usage?: { prompt_tokens?: number; completion_tokens?: number; input_tokens?: number; output_tokens?: number };
    usageMetadata?: { promptTokenCount?: number; candidatesTokenCount?: number };
  };
  if (b?.usage && 'input_tokens' in b.usage) return { inputTokens: b.usage.input_tokens ?? 0, outputTokens: b.usage.output_tokens ?? 0 };
  if (b?.usage) return { inputTokens: b.usage.prompt_tokens ?? 0, outputTokens: b.usage.completion_tokens ?? 0 };
  if (b?.usageMetadata) return { inputTokens: b.usageMetadata.promptTokenCount ?? 0, outputTokens: b.usageMetadata.candidatesTokenCount ?? 0 };
  return undefined;
}

async function listen(port: number, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new MalformedBody();
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new MalformedBody();
  }
}

function send(res: ServerResponse, reply: WireReply): void {
  // the client may have given up (timeout tests); nothing to answer then
  if (res.destroyed) return;
  res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
  res.end(JSON.stringify(reply.body));
}
