import { Body, Param, type PipeTransform, Query } from '@nestjs/common';
import { ApiBody, ApiParam, ApiQuery, type SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';
import { describeIssue, uuidSchema, ValidationFailedError } from '#libs/common';

/**
 * Zod is the one validation library (configuration, records, model answers, and here every HTTP
 * input). nestjs-zod would do this glue, but no release supports Nest 12 yet (its peer range ends
 * at 11), so these few lines stand in: a pipe per parameter, and OpenAPI schemas generated from the
 * same zod schemas, so the document can never disagree with what is enforced.
 */

/** The OpenAPI 3.0 schema of a zod schema: what a client sends (`input`) or receives (`output`). */
export function openApiSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): SchemaObject {
  const json = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io,
    unrepresentable: 'any',
    // answers carry Date objects, which JSON sends as ISO 8601 strings
    override: ({ zodSchema, jsonSchema }) => {
      if (zodSchema._zod.def.type === 'date') Object.assign(jsonSchema, { type: 'string', format: 'date-time' });
    },
  }) as SchemaObject & { $schema?: string };
  delete json.$schema;
  return json;
}

/** Parses a request part with a zod schema; the first problem becomes a 400 VALIDATION_FAILED that names the field. */
export class ZodValidationPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(
    private readonly schema: S,
    /** Names the value in messages about the whole of it (a path parameter has no field path). */
    private readonly label?: string,
  ) {}

  transform(value: unknown): z.output<S> {
    const parsed = this.schema.safeParse(value);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    throw new ValidationFailedError(this.label && issue?.path.length === 0 ? `${this.label} ${issue.message}` : describeIssue(issue));
  }
}

/**
 * The body, parsed with `schema` and documented by it with `example`, which must pass the schema: an
 * example that does not throws when the controller is loaded, so the document never shows a body
 * the API refuses.
 */
export function ValidBody<S extends z.ZodType>(schema: S, example: z.input<S>, description?: string): ParameterDecorator {
  const checked = schema.safeParse(example);
  if (!checked.success) throw new Error(`The documented example body does not pass its schema: ${describeIssue(checked.error.issues[0])}`);
  return (target, key, index) => {
    Body(new ZodValidationPipe(schema))(target, key, index);
    if (key === undefined) return;
    ApiBody({ schema: openApiSchema(schema), description, examples: { example: { value: example } } })(
      target,
      key,
      Object.getOwnPropertyDescriptor(target, key)!,
    );
  };
}

/** The query string, parsed with an object schema and documented parameter by parameter. */
export function ValidQuery(schema: z.ZodObject): ParameterDecorator {
  return (target, key, index) => {
    Query(new ZodValidationPipe(schema))(target, key, index);
    if (key === undefined) return;
    const descriptor = Object.getOwnPropertyDescriptor(target, key)!;
    const json = openApiSchema(schema);
    for (const [name, property] of Object.entries(json.properties ?? {})) {
      ApiQuery({ name, schema: property, required: json.required?.includes(name) ?? false })(target, key, descriptor);
    }
  };
}

/** A path parameter that must be a UUID: anything else is a 400 before any query runs. */
export function UuidParam(name: string): ParameterDecorator {
  const schema = uuidSchema('must be a UUID');
  return (target, key, index) => {
    Param(name, new ZodValidationPipe(schema, name))(target, key, index);
    if (key !== undefined) ApiParam({ name, schema: openApiSchema(uuidSchema()) })(target, key, Object.getOwnPropertyDescriptor(target, key)!);
  };
}
