import { AppProcess, repositoryPath, spawnBuiltApp } from './app-process.js';
import { freePort, waitFor } from './private-services/free-port.js';

/** An answer of the API process: the status and the JSON body (undefined when there is none). */
export interface ApiAnswer<T> {
  status: number;
  body: T;
}

/**
 * A real API process (dist/apps/api), as production runs it, on a port of its own: several of them
 * on one database and Redis prefix are the API tier of a scaled-out deployment. Its output is kept
 * (AppProcess). Requests carry the platform admin token unless told otherwise.
 */
export class ApiProcess extends AppProcess {
  readonly baseUrl: string;
  private readonly adminToken: string | undefined;

  private constructor(
    env: Record<string, string | undefined>,
    readonly port: number,
  ) {
    super(spawnBuiltApp(repositoryPath('dist', 'apps', 'api', 'src', 'main.js'), { ...env, PORT: String(port) }));
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.adminToken = env.ADMIN_API_TOKEN;
  }

  /**
   * Starts an API on `env` (its PORT is replaced by a free one) and resolves once GET /health answers 200.
   * @throws when the build is missing or the process exits or is not healthy within `readyTimeoutMs`
   */
  static async start(env: Record<string, string | undefined>, options: { readyTimeoutMs?: number } = {}): Promise<ApiProcess> {
    const api = new ApiProcess(env, await freePort());
    try {
      await waitFor(
        'The API process did not become healthy',
        async () => (await fetch(`${api.baseUrl}/health`)).status === 200,
        () => api.exitReason(),
        options.readyTimeoutMs ?? 60_000,
      );
    } catch (error) {
      await api.kill();
      throw error;
    }
    return api;
  }

  /**
   * One JSON request; `token` null sends none. `T` is the body the caller expects, not checked at run time.
   * Only for tests' own calls: it keeps nothing of the exchange.
   */
  async request<T = unknown>(method: string, path: string, options: { token?: string | null; body?: unknown } = {}): Promise<ApiAnswer<T>> {
    const token = options.token === undefined ? this.adminToken : options.token;
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }
}
