import { AppError, ErrorCode, ValidationFailedError } from '#libs/common';

export class InvalidMboxError extends ValidationFailedError {
  constructor(message: string) {
    super(message, ErrorCode.InvalidMbox);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(message: string) {
    super(ErrorCode.UnsupportedMediaType, message);
  }
}
