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
  private readonly pages: LRUCache<string, Buffer> | undefined;

  constructor(config: AppConfig) {
    const maxSize = config.graph.pageCacheBytes;
    // pages are kept as their UTF-8 JSON bytes: one buffer per page is nothing for the garbage collector
    // to trace (the page's objects, thousands per page, made every full collection slower), and an
    // answer is written as is, not encoded again on every request
    this.pages = maxSize > 0 ? new LRUCache({ maxSize, sizeCalculation: (json) => Math.max(1, json.byteLength) }) : undefined;
  }

  /** The page's JSON as UTF-8 bytes, if cached. */
  get(key: string): Buffer | undefined {
    return this.pages?.get(key);
  }

  /** Serializes the page (once), keeps its UTF-8 bytes and returns them. */
  set(key: string, page: GraphPage): Buffer {
    const json = Buffer.from(JSON.stringify(page), 'utf8');
    this.pages?.set(key, json);
    return json;
  }
}
