import { EXAMPLE } from '../http/example-values.js';

/** Example answers of the graph routes (documentation only; checked against their views at load). */
const ann = { id: EXAMPLE.entityId, name: 'Ann', type: 'person', description: 'Works at Acme; met Bob in Berlin', mentionCount: 2 };
const acme = { id: EXAMPLE.otherEntityId, name: 'Acme', type: 'organization', description: 'Signed with Globex in January 2025', mentionCount: 2 };

export const graphPageExample = {
  entities: [ann],
  linkedEntities: [acme],
  relationships: [{ id: 'f0e1d2c3-b4a5-4687-9a8b-7c6d5e4f3a2b', sourceId: ann.id, targetId: acme.id, description: 'Ann works at Acme', strength: 8 }],
  relationshipsTruncated: false,
  nextCursor: null,
};

export const entityDetailExample = {
  ...ann,
  mentions: [
    {
      recordId: EXAMPLE.recordId,
      externalId: 'msg-0001',
      subject: 'Kickoff',
      from: 'ann@example.com',
      sentAt: new Date('2025-01-06T09:00:00.000Z'),
    },
  ],
};
