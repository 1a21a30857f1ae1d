import { Controller } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';

@ApiTags('records')
@ApiBearerAuth()
@Controller('v1/workspaces/:workspaceId')
export class RecordsController {}
