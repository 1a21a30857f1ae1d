import { AppError, ErrorCode, NotFoundError } from '#libs/common';

export class WorkspaceNotFoundError extends NotFoundError {
  constructor(workspaceId: string) {
    super(`Workspace ${workspaceId} not found`, ErrorCode.WorkspaceNotFound);
  }
}

export class TenantNotFoundError extends NotFoundError {
  constructor(tenantId: string) {
    super(`Tenant ${tenantId} not found`, ErrorCode.TenantNotFound);
  }
}

export class SubdomainTakenError extends AppError {
  constructor(subdomain: string) {
    super(ErrorCode.SubdomainTaken, `Subdomain "${subdomain}" is already taken`);
  }
}

export class TokenNotFoundError extends NotFoundError {
  constructor(tokenId: string) {
    super(`Token ${tokenId} not found`, ErrorCode.TokenNotFound);
  }
}

export class TokenRevokedError extends AppError {
  constructor(tokenId: string) {
    super(ErrorCode.TokenRevoked, `Token ${tokenId} is revoked and cannot be rotated; create a new one`);
  }
}
