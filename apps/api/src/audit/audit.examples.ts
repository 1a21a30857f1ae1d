import type { z } from 'zod';
import { EXAMPLE, EXAMPLE_KEY_TRACE } from '../http/example-values.js';
import type { auditPageView } from './audit.dto.js';

/** An example page of the audit log (documentation only; checked against its view at load). */
export const auditPageExample: z.output<typeof auditPageView> = {
  items: [
    {
      id: 'a0b1c2d3-e4f5-4a6b-8c7d-8e9f0a1b2c3d',
      occurredAt: EXAMPLE.startedAt,
      actor: { kind: 'tenant_token', tokenId: EXAMPLE.tokenId, label: 'CI deploys' },
      action: 'setting.put',
      settingKey: 'OPENAI_API_KEY',
      before: null,
      after: EXAMPLE_KEY_TRACE,
      clientAddress: '203.0.113.7',
      userAgent: 'curl/8.5.0',
      details: { validationStatus: 'unknown' },
    },
  ],
  nextCursor: null,
};
