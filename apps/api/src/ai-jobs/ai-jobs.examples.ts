import { EXAMPLE } from '../http/example-values.js';
import type { AiJobView } from './ai-jobs.dto.js';

/** Example answers of the AI job routes (documentation only; checked against their views at load). */
export const aiJobStartedExample = { jobId: EXAMPLE.jobId };

export const aiJobExample: AiJobView = {
  id: EXAMPLE.jobId,
  status: 'succeeded',
  result: {
    entities: [
      { name: 'Dana Whitfield', type: 'person' },
      { name: 'Brennan Logistics', type: 'organization' },
    ],
    relationships: [{ source: 'Dana Whitfield', target: 'Brennan Logistics', type: 'works_at' }],
  },
  error: null,
  provider: 'openai',
  keySource: 'tenant',
  usage: { inputTokens: 1240, outputTokens: 212, costMicroUsd: 498, model: 'gpt-4o-mini' },
  createdAt: EXAMPLE.createdAt,
  finishedAt: EXAMPLE.startedAt,
};
