import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiExtension, type MediaTypeObject, type OpenAPIObject } from '@nestjs/swagger';

const CONTENT = 'x-request-content';

/**
 * Documents a body read by its handler (uploads) with a schema and examples per media type:
 * @ApiBody gives every consumed type one schema, which cannot say that JSON is an array or an object
 * while NDJSON is text. The content is kept as an operation extension until applyBodyContents puts it
 * in place.
 */
export function ApiBodyContent(description: string, content: Record<string, MediaTypeObject>): MethodDecorator {
  return applyDecorators(
    ApiConsumes(...Object.keys(content)),
    ApiBody({ description, required: true, schema: { type: 'string' } }),
    ApiExtension(CONTENT, content),
  );
}

/** Replaces the placeholder body of each operation marked by @ApiBodyContent with its own content. */
export function applyBodyContents(document: OpenAPIObject): OpenAPIObject {
  for (const operations of Object.values(document.paths)) {
    for (const operation of Object.values(operations as Record<string, { requestBody?: { content?: unknown }; [CONTENT]?: unknown }>)) {
      const content = operation[CONTENT];
      if (!content || !operation.requestBody) continue;
      operation.requestBody.content = content;
      delete operation[CONTENT];
    }
  }
  return document;
}
