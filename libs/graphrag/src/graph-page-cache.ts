import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { AppConfig } from '#libs/config';
import type { GraphPage } from './graph-page.js';

/**
 * Graph pages kept in process, keyed by workspace, graph version and query, bounded in bytes
 * (GRAPH_PAGE_CACHE_MB, least recently used go first). A page written to the graph bumps the version,
 * so an entry is never stale: it is simply never asked for again and ages out.
 */
@Injectable()
export class GraphPageCache {
  private readonly pages: LRUCache<string, string> | undefined;

  constructor(config: AppConfig) {
    const maxSize = config.graph.pageCacheBytes;
    // pages are kept as their JSON text: one string per page is nothing for the garbage collector to
    // trace, where the page's objects (thousands per page) made every full collection slower
    this.pages = maxSize > 0 ? new LRUCache({ maxSize, sizeCalculation: (json) => Math.max(1, json.length) }) : undefined;
  }

  /** The page's JSON text, if cached. */
  get(key: string): string | undefined {
    return this.pages?.get(key);
  }

  /** Serializes the page (once), keeps the text and returns it. */
  set(key: string, page: GraphPage): string {
    const json = JSON.stringify(page);
    this.pages?.set(key, json);
    return json;
  }
}
