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
  private readonly pages: LRUCache<string, GraphPage> | undefined;

  constructor(config: AppConfig) {
    const maxSize = config.graph.pageCacheBytes;
    // an object weighs about twice its JSON text in the heap; the estimate is made once, when stored
    this.pages = maxSize > 0 ? new LRUCache({ maxSize, sizeCalculation: (page) => Math.max(1, 2 * JSON.stringify(page).length) }) : undefined;
  }

  get(key: string): GraphPage | undefined {
    return this.pages?.get(key);
  }

  set(key: string, page: GraphPage): void {
    this.pages?.set(key, page);
  }
}
