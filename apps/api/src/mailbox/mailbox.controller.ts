import { Controller, Delete, Get, HttpCode, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { MailboxSources } from '#libs/mailbox';
import { type RequestActor, TenantResolver, type TenantScope } from '#libs/tenancy';
import { CurrentActor } from '../auth/principal.js';
import { CurrentScope } from '../auth/scope.js';
import { openApiSchema, UuidParam, ValidBody } from '../http/zod-validation.js';
import {
  type MailboxTestView,
  mailboxTestView,
  type MailboxView,
  mailboxView,
  type PutMailboxBody,
  putMailboxBody,
  toMailboxView,
} from './mailbox.dto.js';

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
  @ApiOkResponse({ schema: openApiSchema(mailboxView, 'output') })
  async put(
    @CurrentScope() scope: TenantScope,
    @UuidParam('workspaceId') workspaceId: string,
    @ValidBody(putMailboxBody) body: PutMailboxBody,
    @CurrentActor() actor: RequestActor,
  ): Promise<MailboxView> {
    const { tenantId } = await this.tenants.resolveIn(scope, workspaceId);
    return toMailboxView(await this.mailboxes.put(tenantId, workspaceId, body, actor));
  }

  @Get()
  @ApiOkResponse({ schema: openApiSchema(mailboxView, 'output') })
  async get(@CurrentScope() scope: TenantScope, @UuidParam('workspaceId') workspaceId: string): Promise<MailboxView> {
    const { tenantId } = await this.tenants.resolveIn(scope, workspaceId);
    return toMailboxView(await this.mailboxes.get(tenantId, workspaceId));
  }

  @Delete()
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
  @HttpCode(200)
  @ApiOkResponse({ schema: openApiSchema(mailboxTestView, 'output') })
  async test(@CurrentScope() scope: TenantScope, @UuidParam('workspaceId') workspaceId: string): Promise<MailboxTestView> {
    const { tenantId } = await this.tenants.resolveIn(scope, workspaceId);
    return this.mailboxes.test(tenantId, workspaceId);
  }
}
