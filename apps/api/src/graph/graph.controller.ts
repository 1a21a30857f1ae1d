import { Controller } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';

@ApiTags('graph')
@ApiBearerAuth()
@Controller('v1/workspaces/:workspaceId/graph')
export class GraphController {}
