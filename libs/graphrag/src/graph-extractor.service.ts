import { Injectable } from '@nestjs/common';
import { ErrorCode } from '#libs/common';
import { AnswerTruncatedError, type LlmProvider, UnusableAnswerError } from '#libs/llm';
import { chunksOf, chunkText } from './chunker.js';
import { EXTRACTION_JSON_SCHEMA, EXTRACTION_SYSTEM_PROMPT, type ExtractionAnswer, parseExtractionAnswer } from './extraction-schema.js';

export interface ExtractableRecord {
  id: string;
  fromAddr: string;
  toAddr: string;
  /** Cc recipients; the line is left out when absent or empty. */
  ccAddr?: string;
  subject: string;
  body: string;
}

export type ProviderCall = <T>(call: () => Promise<T>) => Promise<T>;

/** Why one record's extraction could not be used; stored with the record, never the text or the answer. */
export interface RecordFailure {
  code: ErrorCode;
  /** Plain words for a person, with the provider and what to do. */
  reason: string;
  /** The provider's own word for how the answer ended, when it said. */
  finishReason?: string;
}

/** One record's outcome: its answers (one per chunk), or the record-specific failure that ended it. */
export type RecordExtraction = { ok: true; answers: ExtractionAnswer[]; droppedItems: number } | { ok: false; failure: RecordFailure };

/** A chunk cut off at the output limit is split in two and sent again, down to this size (characters). */
export const MIN_SPLIT_CHUNK_CHARS = 250;

/**
 * Sends each chunk of a record to the provider with the extraction schema and reads the answers.
 * Record-specific failures (refused, blocked, still truncated at the smallest split, no JSON after
 * repair, the wrong shape) end that record only and are returned; provider-wide failures (auth,
 * exhausted rate limits and outages) are thrown, for the job to stop.
 */
@Injectable()
export class GraphExtractor {
  /**
   * `callWith` wraps every provider call (retries, the shared rate-limit pause, accounting).
   * @throws LlmError for provider-wide failures
   */
  async extract(llm: LlmProvider, record: ExtractableRecord, callWith: ProviderCall = (c) => c()): Promise<RecordExtraction> {
    const answers: ExtractionAnswer[] = [];
    let droppedItems = 0;
    // chunks are cut one at a time as they are sent: a long record holds one chunk and its prompt at
    // once, not all of them; only the halves of a truncated chunk wait their turn in `retries`
    const chunks = chunksOf(recordText(record));
    const retries: string[] = [];
    for (;;) {
      const chunk = retries.shift() ?? nextOf(chunks);
      if (chunk === undefined) break;
      let json: unknown;
      try {
        json = (await callWith(() => llm.complete({ system: EXTRACTION_SYSTEM_PROMPT, user: chunk, jsonSchema: EXTRACTION_JSON_SCHEMA }))).json;
      } catch (error) {
        if (error instanceof AnswerTruncatedError && chunk.length >= 2 * MIN_SPLIT_CHUNK_CHARS) {
          retries.unshift(...chunkText(chunk, Math.ceil(chunk.length / 2)));
          continue;
        }
        if (error instanceof UnusableAnswerError) return { ok: false, failure: failureOf(error) };
        throw error;
      }
      const parsed = parseExtractionAnswer(json);
      if (!parsed.ok) {
        return {
          ok: false,
          failure: {
            code: ErrorCode.ExtractionInvalid,
            reason: `The ${llm.provider} answer was JSON of another shape than the schema (${parsed.problem})`,
          },
        };
      }
      answers.push(parsed.answer);
      droppedItems += parsed.droppedItems;
    }
    return { ok: true, answers, droppedItems };
  }
}

function nextOf(chunks: Iterator<string, void>): string | undefined {
  const next = chunks.next();
  return next.done ? undefined : next.value;
}

function failureOf(error: UnusableAnswerError): RecordFailure {
  const truncated = error instanceof AnswerTruncatedError;
  return {
    code: error.code,
    reason: truncated ? `${error.message}, even in chunks of ${MIN_SPLIT_CHUNK_CHARS} characters` : error.message,
    ...(error.finishReason ? { finishReason: error.finishReason } : {}),
  };
}

export function recordText(record: ExtractableRecord): string {
  const cc = record.ccAddr ? [`Cc: ${record.ccAddr}`] : [];
  return [`From: ${record.fromAddr}`, `To: ${record.toAddr}`, ...cc, `Subject: ${record.subject}`, '', record.body].join('\n');
}
