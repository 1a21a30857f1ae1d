import { Controller, Delete, Get, HttpCode, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '#libs/common';
import { MailboxSources } from '#libs/mailbox';
import { type RequestActor, TenantResolver, type TenantScope } from '#libs/tenancy';
import { CurrentActor } from '../auth/principal.js';
import { CurrentScope } from '../auth/scope.js';
import { ApiErrors } from '../http/api-errors.js';
import { UuidParam, ValidBody } from '../http/zod-validation.js';
import {
  type MailboxTestView,
  mailboxTestView,
  type MailboxView,
  mailboxView,
  type PutMailboxBody,
  putMailboxBody,
  toMailboxView,
} from './mailbox.dto.js';
import { ApiSuccess } from '../http/api-success.js';
import { mailboxExample, mailboxTestExample } from './mailbox.examples.js';

/**
 * A workspace's mailbox, for backfills from IMAP (`POST /v1/workspaces/:id/backfills` with
 * `{ "source": "imap" }`): its secret is stored encrypted and never returned; another tenant's
 * workspace answers 404.
 */
@ApiTags('mailbox')
@ApiBearerAuth()
@Controller('v1/workspaces/:workspaceId/imap-source')
export class MailboxController {
  constructor(
    private readonly tenants: TenantResolver,
    private readonly mailboxes: MailboxSources,
  ) {}

  /** Connects (or replaces) the mailbox; its status starts over as unknown. A host the egress policy refuses answers 400 EGRESS_REFUSED. */
  @Put()
  @ApiOperation({
    summary: "Connect (or replace) a workspace's mailbox",
    description:
      'IMAP host, port, TLS mode, user, password or OAuth2 token (stored encrypted, never returned; leave it out to keep the stored one), folders and a start day. ' +
      'Its status starts over as unknown. A host the egress policy refuses answers 400 EGRESS_REFUSED.',
  })
  @ApiErrors(ErrorCode.WorkspaceNotFound, ErrorCode.EgressRefused)
  @ApiSuccess(200, mailboxView, { ...mailboxExample, status: 'unknown', checkedAt: null })
  async put(
    @CurrentScope() scope: TenantScope,
    @UuidParam('workspaceId') workspaceId: string,
    @ValidBody(putMailboxBody, {
      host: 'imap.example.com',
      username: 'ann@example.com',
      secret: 'app-password',
      folders: ['INBOX', 'Sent'],
      since: '2024-01-01',
    })
    body: PutMailboxBody,
    @CurrentActor() actor: RequestActor,
  ): Promise<MailboxView> {
    const { tenantId } = await this.tenants.resolveIn(scope, workspaceId);
    return toMailboxView(await this.mailboxes.put(tenantId, workspaceId, body, actor));
  }

  @Get()
  @ApiOperation({ summary: "Get a workspace's mailbox", description: 'Its settings and status, the secret as last4 and fingerprint only.' })
  @ApiErrors(ErrorCode.WorkspaceNotFound, ErrorCode.ImapSourceNotFound)
  @ApiSuccess(200, mailboxView, mailboxExample)
  async get(@CurrentScope() scope: TenantScope, @UuidParam('workspaceId') workspaceId: string): Promise<MailboxView> {
    const { tenantId } = await this.tenants.resolveIn(scope, workspaceId);
    return toMailboxView(await this.mailboxes.get(tenantId, workspaceId));
  }

  @Delete()
  @ApiOperation({ summary: "Disconnect a workspace's mailbox", description: 'Its settings and sealed secret go with it.' })
  @ApiErrors(ErrorCode.WorkspaceNotFound, ErrorCode.ImapSourceNotFound)
  @HttpCode(204)
  @ApiNoContentResponse()
  async delete(
    @CurrentScope() scope: TenantScope,
    @UuidParam('workspaceId') workspaceId: string,
    @CurrentActor() actor: RequestActor,
  ): Promise<void> {
    const { tenantId } = await this.tenants.resolveIn(scope, workspaceId);
    await this.mailboxes.delete(tenantId, workspaceId, actor);
  }

  /**
   * Logs in and reads each folder's message count (no message is fetched); records the verdict.
   * A refused login answers 422 IMAP_AUTH_FAILED (and marks the mailbox invalid), a TLS failure 422
   * IMAP_TLS_FAILED, a missing folder 422 IMAP_FOLDER_NOT_FOUND, an unreachable server 502 IMAP_UNAVAILABLE.
   */
  @Post('test')
  @ApiOperation({
    summary: "Test a workspace's mailbox",
    description:
      "Logs in and reads each folder's message count (no message is fetched) and records the verdict. A refused login also marks the mailbox invalid.",
  })
  @ApiErrors(
    ErrorCode.WorkspaceNotFound,
    ErrorCode.ImapSourceNotFound,
    ErrorCode.ImapAuthFailed,
    ErrorCode.ImapTlsFailed,
    ErrorCode.ImapFolderNotFound,
    ErrorCode.ImapUnavailable,
    ErrorCode.EgressRefused,
  )
  @HttpCode(200)
  @ApiSuccess(200, mailboxTestView, mailboxTestExample)
  async test(@CurrentScope() scope: TenantScope, @UuidParam('workspaceId') workspaceId: string): Promise<MailboxTestView> {
    const { tenantId } = await this.tenants.resolveIn(scope, workspaceId);
    return this.mailboxes.test(tenantId, workspaceId);
  }
}
