import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { HandlesJob, type JobHandler } from './job-handler.js';
import { JobName } from './jobs.js';

/** The worker's job declarations and handlers disagree; its message lists every problem. */
export class JobRegistrationError extends Error {
  override name = 'JobRegistrationError';
}

/**
 * What is wrong with a set of handler registrations: a JobName with no handler, with two or more,
 * or a name that is not declared in JobName. Empty when every declared job has exactly one.
 */
export function jobRegistrationProblems(registrations: readonly { name: string; handler: string }[]): string[] {
  const declared = new Set<string>(Object.values(JobName));
  const problems: string[] = [];
  for (const { name, handler } of registrations) {
    if (!declared.has(name)) problems.push(`${handler} handles "${name}", which is not a declared JobName`);
  }
  for (const name of declared) {
    const handlers = registrations.filter((r) => r.name === name).map((r) => r.handler);
    if (handlers.length === 0) problems.push(`job "${name}" has no handler`);
    if (handlers.length > 1) problems.push(`job "${name}" has ${handlers.length} handlers: ${handlers.join(', ')}`);
  }
  return problems;
}

/**
 * Finds every `@HandlesJob` provider when the worker starts, and fails the start-up unless each
 * declared JobName has exactly one handler.
 * @throws JobRegistrationError from onModuleInit
 */
@Injectable()
export class JobHandlerRegistry implements OnModuleInit {
  private readonly handlers = new Map<JobName, JobHandler>();

  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    const found = this.discovery.getProviders({ metadataKey: HandlesJob.KEY }).flatMap((wrapper) => {
      const name = this.discovery.getMetadataByDecorator(HandlesJob, wrapper);
      return name && wrapper.instance ? [{ name, handler: String(wrapper.name), instance: wrapper.instance as JobHandler }] : [];
    });
    const problems = jobRegistrationProblems(found);
    if (problems.length > 0) throw new JobRegistrationError(`Job handlers do not match the declared jobs: ${problems.join('; ')}`);
    for (const { name, instance } of found) this.handlers.set(name, instance);
  }

  /** The handler of a job name read from the queue; undefined for a name this version does not know. */
  handlerFor(name: string): JobHandler | undefined {
    return this.handlers.get(name as JobName);
  }

  /** Every declared job with its handler (all present once the module has started). */
  all(): [JobName, JobHandler][] {
    return [...this.handlers.entries()];
  }
}
