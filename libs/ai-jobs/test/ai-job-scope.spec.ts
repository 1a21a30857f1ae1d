import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { AiJobNotFoundError, AiJobRepository, AiJobService, AiJobsModule } from '#libs/ai-jobs';
import { AiJobStatus } from '#libs/database';
import { PLATFORM_SCOPE, tenantScope } from '#libs/tenancy';
import { MediumContext } from '#libs/testing';

/** AI jobs are scoped by construction: a tenant id is in every WHERE, and only the platform scope reaches any tenant's job. */
describe('AI jobs in a TenantScope', () => {
  let ctx: MediumContext;
  let repository: AiJobRepository;
  let sut: AiJobService;

  beforeAll(async () => {
    ctx = await MediumContext.create({ imports: [AiJobsModule] });
    repository = ctx.get(AiJobRepository);
    sut = ctx.get(AiJobService);
  });
  afterAll(() => ctx.close());

  it("never returns or changes another tenant's job through a scoped repository method", async () => {
    const owner = await ctx.newTenant();
    const other = await ctx.newTenant();
    const job = await repository.create(owner.id, 'extract', { text: 'hello' });

    await expect(repository.findById(other.id, job.id)).resolves.toBeNull();
    await expect(repository.fail(other.id, job.id, { code: 'X', message: 'x' })).resolves.toBe(false);
    await repository.delete(other.id, job.id);

    await expect(repository.findById(owner.id, job.id)).resolves.toMatchObject({ id: job.id, status: AiJobStatus.queued });
    await expect(repository.ownerOf(job.id)).resolves.toBe(owner.id);
  });

  it("reads another tenant's job as not found, and any tenant's in the platform scope", async () => {
    const owner = await ctx.newTenant();
    const other = await ctx.newTenant();
    const job = await repository.create(owner.id, 'extract', { text: 'hello' });

    await expect(sut.get(tenantScope(other.id), job.id)).rejects.toThrow(AiJobNotFoundError);
    await expect(sut.get(tenantScope(owner.id), job.id)).resolves.toMatchObject({ id: job.id });
    await expect(sut.get(PLATFORM_SCOPE, job.id)).resolves.toMatchObject({ id: job.id });
    await expect(sut.get(PLATFORM_SCOPE, randomUUID())).rejects.toThrow(AiJobNotFoundError);
  });
});
