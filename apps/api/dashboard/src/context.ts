import type { Api } from './api.js';
import type { Tenant, Workspace } from './types.js';

/** What every page gets: the signed-in tenant, the API client and a few shared services. */
export interface AppContext {
  readonly api: Api;
  readonly tenant: Tenant;
  /** Says something through the page-wide polite live region. */
  announce(text: string): void;
  /** The tenant's workspaces (fetched once per sign-in; `refresh` fetches again). */
  workspaces(refresh?: boolean): Promise<Workspace[]>;
  /** The workspace last chosen on any page, so moving between pages keeps it. */
  selectedWorkspaceId: string | null;
}

export interface Page {
  readonly title: string;
  readonly element: HTMLElement;
  /** Stops timers, requests and renderers. */
  dispose(): void;
}

export type PageFactory = (context: AppContext) => Page;
