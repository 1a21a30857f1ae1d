import { ApiProperty } from '@nestjs/swagger';
import { IsEnum, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { AiKeyMode, PlanType, type Tenant, type Workspace } from '#libs/database';

export class CreateTenantDto {
  @ApiProperty({ example: 'brennan', description: 'Lowercase letters, digits and inner hyphens' })
  @IsString()
  @Matches(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, { message: 'subdomain must be 1-63 lowercase letters, digits or inner hyphens' })
  subdomain: string;

  @ApiProperty({ enum: PlanType })
  @IsEnum(PlanType, { message: `planType must be one of ${Object.values(PlanType).join(', ')}` })
  planType: PlanType;

  @ApiProperty({ enum: AiKeyMode, description: 'byok: the tenant brings its keys; managed: the platform key is used' })
  @IsEnum(AiKeyMode, { message: `aiKeyMode must be one of ${Object.values(AiKeyMode).join(', ')}` })
  aiKeyMode: AiKeyMode;
}

export class CreateWorkspaceDto {
  @ApiProperty({ example: 'Support inbox' })
  @IsString()
  @MinLength(1, { message: 'name must not be empty' })
  @MaxLength(200, { message: 'name must be at most 200 characters' })
  name: string;
}

export class TransferWorkspaceDto {
  @ApiProperty({ format: 'uuid' })
  @Matches(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, { message: 'tenantId must be a UUID' })
  tenantId: string;
}

export class TenantView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() subdomain: string;
  @ApiProperty({ enum: PlanType }) planType: PlanType;
  @ApiProperty({ enum: AiKeyMode }) aiKeyMode: AiKeyMode;
  @ApiProperty() createdAt: Date;

  static of(tenant: Tenant): TenantView {
    return { id: tenant.id, subdomain: tenant.subdomain, planType: tenant.planType, aiKeyMode: tenant.aiKeyMode, createdAt: tenant.createdAt };
  }
}

export class WorkspaceView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) tenantId: string;
  @ApiProperty() name: string;
  @ApiProperty() createdAt: Date;

  static of(workspace: Workspace): WorkspaceView {
    return { id: workspace.id, tenantId: workspace.tenantId, name: workspace.name, createdAt: workspace.createdAt };
  }
}

export class TokenView {
  @ApiProperty({ description: 'Shown once; only its hash is kept' }) token: string;
}
