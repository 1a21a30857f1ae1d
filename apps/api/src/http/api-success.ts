import { ApiResponse } from '@nestjs/swagger';
import type { z } from 'zod';
import { describeIssue } from '#libs/common';
import { openApiSchema } from './zod-validation.js';

/**
 * Documents a success answer with the schema of its zod view and an example body, which must pass
 * that view: one that does not throws when the controller is loaded (as ValidBody does), so the
 * document never shows an answer the API could not give. The example is written as the handler
 * returns it (Dates, not strings) and shown as JSON sends it (ISO 8601 strings).
 *
 * @param status the HTTP status of the answer (200, 201 or 202)
 * @param view the zod schema of the answer body, read on its output side
 * @param example a body that passes `view`
 * @throws Error at load time when `example` does not pass `view`
 */
export function ApiSuccess<S extends z.ZodType>(
  status: number,
  view: S,
  example: z.output<S>,
  description?: string,
): MethodDecorator & ClassDecorator {
  const checked = view.safeParse(example);
  if (!checked.success) throw new Error(`The documented example answer does not pass its view: ${describeIssue(checked.error.issues[0])}`);
  return ApiResponse({
    status,
    description: description ?? 'Success',
    schema: openApiSchema(view, 'output'),
    examples: { example: { summary: 'Example', value: JSON.parse(JSON.stringify(example)) as unknown } },
  });
}
