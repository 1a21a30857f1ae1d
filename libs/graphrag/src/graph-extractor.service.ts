import { Injectable, Logger } from '@nestjs/common';
import type { LlmProvider } from '#libs/llm';
import { chunkText } from './chunker.js';
import { EXTRACTION_JSON_SCHEMA, EXTRACTION_SYSTEM_PROMPT, type ExtractionAnswer, extractionAnswerSchema } from './extraction-schema.js';

export interface ExtractableRecord {
  id: string;
  fromAddr: string;
  toAddr: string;
  subject: string;
  body: string;
}

export type ProviderCall = <T>(call: () => Promise<T>) => Promise<T>;

/** Sends each chunk of a record to the provider with the extraction schema and validates the answers. */
@Injectable()
export class GraphExtractor {
  private readonly logger = new Logger(GraphExtractor.name);

  /**
   * `callWith` wraps every provider call (retries, accounting). A malformed answer drops that chunk
   * with a warning; provider errors propagate untouched.
   */
  async extract(llm: LlmProvider, record: ExtractableRecord, callWith: ProviderCall = (c) => c()): Promise<ExtractionAnswer[]> {
    const answers: ExtractionAnswer[] = [];
    for (const chunk of chunkText(recordText(record))) {
      const result = await callWith(() => llm.complete({ system: EXTRACTION_SYSTEM_PROMPT, user: chunk, jsonSchema: EXTRACTION_JSON_SCHEMA }));
      const parsed = extractionAnswerSchema.safeParse(result.json);
      if (parsed.success) answers.push(parsed.data);
      else this.logger.warn({ recordId: record.id, provider: llm.provider }, 'Extraction answer did not match the schema; chunk skipped');
    }
    return answers;
  }
}

export function recordText(record: ExtractableRecord): string {
  return [`From: ${record.fromAddr}`, `To: ${record.toAddr}`, `Subject: ${record.subject}`, '', record.body].join('\n');
}
