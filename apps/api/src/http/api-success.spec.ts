import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { ApiSuccess } from './api-success.js';

// @nestjs/swagger keeps a method's responses under this metadata key (its DECORATORS.API_RESPONSE, not exported)
const API_RESPONSE = 'swagger/apiResponse';

const view = z.object({ id: z.uuid(), createdAt: z.date() });

describe('ApiSuccess', () => {
  it('refuses, at load, an example that does not pass the view', () => {
    expect(() => ApiSuccess(200, view, { id: 'not-a-uuid', createdAt: new Date() })).toThrow(/does not pass its view: id/);
  });

  it('documents the schema and the example as JSON sends it (Dates as ISO 8601 strings)', () => {
    class Controller {
      get(): void {}
    }
    const descriptor = Object.getOwnPropertyDescriptor(Controller.prototype, 'get')!;
    ApiSuccess(
      201,
      view,
      { id: '3f2b8c1e-7a4d-4e9b-9c2a-1d5e6f7a8b9c', createdAt: new Date('2026-03-02T09:15:00.000Z') },
      'Created',
    )(Controller.prototype, 'get', descriptor);
    const responses = Reflect.getMetadata(API_RESPONSE, descriptor.value as object) as Record<string, Record<string, unknown>>;
    expect(responses['201']).toMatchObject({
      description: 'Created',
      schema: { type: 'object', properties: { createdAt: { type: 'string', format: 'date-time' } } },
      examples: { example: { value: { id: '3f2b8c1e-7a4d-4e9b-9c2a-1d5e6f7a8b9c', createdAt: '2026-03-02T09:15:00.000Z' } } },
    });
  });
});
