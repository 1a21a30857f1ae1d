import { ParseUUIDPipe, ValidationPipe } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import { ValidationFailedError } from '#libs/common';

/** DTO validation whose failures become `VALIDATION_FAILED` with the first problem spelled out. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors: ValidationError[]) => new ValidationFailedError(firstProblem(errors)),
  });
}

function firstProblem(errors: ValidationError[]): string {
  for (const error of errors) {
    const constraint = error.constraints && Object.values(error.constraints)[0];
    if (constraint) return constraint;
    if (error.children?.length) return firstProblem(error.children);
  }
  return 'The request body is invalid';
}

/** A path id that must be a uuid: anything else is a 400 before any query runs. */
export function uuidParam(name: string): ParseUUIDPipe {
  return new ParseUUIDPipe({ exceptionFactory: () => new ValidationFailedError(`${name} must be a UUID`) });
}
