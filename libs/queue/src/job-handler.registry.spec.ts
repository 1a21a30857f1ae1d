import { describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { HandlesJob, type JobHandler, type JobRunResult, type UnfinishedJob } from './job-handler.js';
import { JobHandlerRegistry, JobRegistrationError, jobRegistrationProblems } from './job-handler.registry.js';
import { JobName } from './jobs.js';

const done = (): Promise<JobRunResult> => Promise.resolve({ status: 'succeeded' });
const none = (): Promise<UnfinishedJob[]> => Promise.resolve([]);
const settled = (): Promise<boolean> => Promise.resolve(false);

@Injectable()
@HandlesJob(JobName.Backfill)
class BackfillHandler implements JobHandler<JobName.Backfill> {
  run = done;
  unfinished = none;
  settleLost = settled;
}

@Injectable()
@HandlesJob(JobName.AiExtract)
class ExtractHandler implements JobHandler<JobName.AiExtract> {
  run = done;
  unfinished = none;
  settleLost = settled;
}

@Injectable()
@HandlesJob(JobName.AiExtract)
class SecondExtractHandler implements JobHandler<JobName.AiExtract> {
  run = done;
  unfinished = none;
  settleLost = settled;
}

@Injectable()
@HandlesJob(JobName.WorkspaceDeletion)
class DeletionHandler implements JobHandler<JobName.WorkspaceDeletion> {
  run = done;
  unfinished = none;
  settleLost = settled;
}

@Injectable()
@HandlesJob(JobName.WebhookDelivery)
class WebhookHandler implements JobHandler<JobName.WebhookDelivery> {
  run = done;
  unfinished = none;
  settleLost = settled;
}

/** Boots the registry the way a worker does, with the given handler providers. */
async function boot(handlers: (new () => JobHandler)[]): Promise<JobHandlerRegistry> {
  const moduleRef = await Test.createTestingModule({ imports: [DiscoveryModule], providers: [JobHandlerRegistry, ...handlers] }).compile();
  await moduleRef.init();
  return moduleRef.get(JobHandlerRegistry);
}

describe(JobHandlerRegistry.name, () => {
  it('starts when every declared job has exactly one handler, and routes each name to it', async () => {
    const registry = await boot([BackfillHandler, ExtractHandler, DeletionHandler, WebhookHandler]);
    expect(registry.handlerFor(JobName.Backfill)).toBeInstanceOf(BackfillHandler);
    expect(registry.handlerFor(JobName.AiExtract)).toBeInstanceOf(ExtractHandler);
    expect(registry.handlerFor(JobName.WorkspaceDeletion)).toBeInstanceOf(DeletionHandler);
    expect(registry.handlerFor(JobName.WebhookDelivery)).toBeInstanceOf(WebhookHandler);
    expect(registry.handlerFor('historical-sync')).toBeUndefined();
  });

  it('refuses to start when a job has no handler', async () => {
    await expect(boot([BackfillHandler, DeletionHandler, WebhookHandler])).rejects.toThrow(JobRegistrationError);
    await expect(boot([BackfillHandler, DeletionHandler, WebhookHandler])).rejects.toThrow('job "ai-extract" has no handler');
  });

  it('refuses to start when a job has two handlers, naming both', async () => {
    await expect(boot([BackfillHandler, ExtractHandler, SecondExtractHandler, DeletionHandler, WebhookHandler])).rejects.toThrow(
      'job "ai-extract" has 2 handlers: ExtractHandler, SecondExtractHandler',
    );
  });
});

describe(jobRegistrationProblems.name, () => {
  it('names a handler of an undeclared job', () => {
    expect(
      jobRegistrationProblems([
        { name: JobName.Backfill, handler: 'A' },
        { name: JobName.AiExtract, handler: 'B' },
        { name: JobName.WorkspaceDeletion, handler: 'D' },
        { name: JobName.WebhookDelivery, handler: 'W' },
        { name: 'reindex', handler: 'C' },
      ]),
    ).toEqual(['C handles "reindex", which is not a declared JobName']);
  });
});
