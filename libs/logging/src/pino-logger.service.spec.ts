import { request, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { pino } from 'pino';
import { pinoHttp } from 'pino-http';
import { LogCapture, type LogEntry } from '#libs/testing';
import { PinoLoggerService } from './pino-logger.service.js';
import { requestLoggingMiddleware } from './request-context.js';

/** Nest's calling conventions, as services use them through `new Logger(Context)`, land as nestjs-pino 5 wrote them. */
describe('PinoLoggerService', () => {
  let capture: LogCapture;
  const entries = () => capture.lines.map((line) => JSON.parse(line) as LogEntry);

  beforeEach(() => {
    capture = new LogCapture();
    Logger.overrideLogger(new PinoLoggerService(pino({ level: 'trace' }, capture)));
  });

  it('merges an object given first and adds the context', () => {
    new Logger('Billing').log({ tenantId: 't1', count: 2 }, 'Charged');
    expect(entries()).toEqual([expect.objectContaining({ level: 30, context: 'Billing', tenantId: 't1', count: 2, msg: 'Charged' })]);
  });

  it('logs a message alone with its context, at the level of each method', () => {
    const logger = new Logger('Jobs');
    logger.verbose('v');
    logger.debug('d');
    logger.log('l');
    logger.warn('w');
    logger.error('e');
    logger.fatal('f');
    expect(entries().map(({ level, msg, context }) => ({ level, msg, context }))).toEqual([
      { level: 10, msg: 'v', context: 'Jobs' },
      { level: 20, msg: 'd', context: 'Jobs' },
      { level: 30, msg: 'l', context: 'Jobs' },
      { level: 40, msg: 'w', context: 'Jobs' },
      { level: 50, msg: 'e', context: 'Jobs' },
      { level: 60, msg: 'f', context: 'Jobs' },
    ]);
  });

  it('serializes an Error given first under err, and one given in the object too', () => {
    const logger = new Logger('Worker');
    logger.error(new Error('boom'), 'Job failed');
    logger.warn({ err: new TypeError('bad'), jobId: 'j1' }, 'Retrying');
    const [first, second] = entries();
    expect(first).toMatchObject({ level: 50, context: 'Worker', msg: 'Job failed', err: { type: 'Error', message: 'boom' } });
    expect((first.err as { stack: string }).stack).toContain('boom');
    expect(second).toMatchObject({ level: 40, jobId: 'j1', msg: 'Retrying', err: { type: 'TypeError', message: 'bad' } });
  });

  it('formats printf-style arguments between the message and the context', () => {
    new Logger('Sync').log('Fetched %d records from %s', 12, 'imap');
    new Logger('Sync').log({ page: 3 }, 'page %s of %d', 'three', 9);
    expect(entries().map(({ msg, context }) => ({ msg, context }))).toEqual([
      { msg: 'Fetched 12 records from imap', context: 'Sync' },
      { msg: 'page three of 9', context: 'Sync' },
    ]);
  });

  it("takes Nest's exception-handler error(message, stack) as an err with that stack", () => {
    const stack = 'Error: down\n    at handler (file.js:1:1)';
    // as Nest's ExceptionsHandler calls it: message, stack, its context
    new PinoLoggerService(pino({}, capture)).error('down', stack, 'ExceptionsHandler');
    expect(entries()).toEqual([
      expect.objectContaining({ level: 50, context: 'ExceptionsHandler', err: expect.objectContaining({ message: 'down', stack }) }),
    ]);
  });

  it('logs without a context when Nest gives none', () => {
    Logger.log('Started');
    expect(entries()).toEqual([expect.not.objectContaining({ context: expect.anything() })]);
    expect(entries()[0].msg).toBe('Started');
  });

  describe('while handling a request', () => {
    let server: Server;

    afterEach(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    it('binds the request to every line, as pino-http logs it', async () => {
      const httpLogger = pinoHttp(
        {
          serializers: { req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, path: req.url }) },
          genReqId: () => 'req-1',
        },
        capture,
      );
      const middleware = requestLoggingMiddleware(httpLogger);
      server = createServer((req, res) =>
        middleware(req, res, () => {
          setImmediate(() => {
            new Logger('Handler').log({ step: 1 }, 'Handling');
            res.end('ok');
          });
        }),
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      await new Promise<void>((resolve, reject) => {
        request({ port, host: '127.0.0.1', path: '/things' }, (res) => res.resume().on('end', resolve))
          .on('error', reject)
          .end();
      });
      new Logger('Later').log('After');

      const req = { id: 'req-1', method: 'GET', path: '/things' };
      const byMsg = new Map(entries().map((entry) => [entry.msg, entry]));
      expect(byMsg.get('Handling')).toMatchObject({ req, step: 1, context: 'Handler' });
      expect(byMsg.get('request completed')).toMatchObject({ req, res: { statusCode: 200 } });
      expect(byMsg.get('After')).not.toHaveProperty('req');
    });
  });
});
