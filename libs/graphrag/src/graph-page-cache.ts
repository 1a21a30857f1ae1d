import { gzipSync } from 'node:zlib';
import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { AppConfig } from '#libs/config';
import type { GraphPage } from './graph-page.js';

/** A page's JSON as UTF-8 bytes, and the same bytes gzipped (RFC 1952) for clients that accept it. */
export interface EncodedPage {
  json: Buffer;
  gzip: Buffer;
}

/**
 * Graph pages kept in process, keyed by workspace, graph version and query, bounded in bytes
 * (GRAPH_PAGE_CACHE_MB, least recently used go first). A page written to the graph bumps the version,
 * so an entry is never stale: it is simply never asked for again and ages out.
 */
@Injectable()
export class GraphPageCache {
  private readonly pages: LRUCache<string, EncodedPage> | undefined;

  constructor(config: AppConfig) {
    const maxSize = config.graph.pageCacheBytes;
    // pages are kept as their UTF-8 JSON bytes and those bytes gzipped: two buffers per page are nothing
    // for the garbage collector to trace (the page's objects, thousands per page, made every full
    // collection slower), and an answer is written as is, not encoded or compressed on every request
    this.pages =
      maxSize > 0 ? new LRUCache({ maxSize, sizeCalculation: (page) => Math.max(1, page.json.byteLength + page.gzip.byteLength) }) : undefined;
  }

  /** The page's JSON as UTF-8 bytes and gzipped, if cached. */
  get(key: string): EncodedPage | undefined {
    return this.pages?.get(key);
  }

  /** Serializes and compresses the page (once), keeps both and returns them. */
  set(key: string, page: GraphPage): EncodedPage {
    const json = Buffer.from(JSON.stringify(page), 'utf8');
    // a page is 50-100 KB of repetitive JSON: about a tenth of it gzipped, in a millisecond or two, once
    const encoded = { json, gzip: gzipSync(json) };
    this.pages?.set(key, encoded);
    return encoded;
  }
}
