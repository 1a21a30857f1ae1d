import { AppError, ErrorCode } from '#libs/common';

export class UnauthenticatedError extends AppError {
  constructor() {
    super(ErrorCode.Unauthenticated, 'Send a valid token as "Authorization: Bearer <token>"');
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'Only the platform admin may do this') {
    super(ErrorCode.Forbidden, message);
  }
}

export class TokenReadOnlyError extends AppError {
  constructor() {
    super(ErrorCode.TokenReadOnly, 'This token has the read scope: it may only read. Use an admin-scope token to change anything');
  }
}
