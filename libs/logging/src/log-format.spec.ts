import { describe, expect, it } from '@jest/globals';
import { AppConfig, ConfigError } from '#libs/config';
import { testEnv } from '#libs/testing';
import { logFormatFor } from './logging.module.js';

describe('log format', () => {
  it('is pretty in a terminal and JSON otherwise, unless LOG_FORMAT says', () => {
    expect(logFormatFor(undefined, true)).toBe('pretty');
    expect(logFormatFor(undefined, false)).toBe('json');
    expect(logFormatFor('json', true)).toBe('json');
    expect(logFormatFor('pretty', false)).toBe('pretty');
  });

  it('LOG_FORMAT takes json or pretty only', () => {
    expect(AppConfig.fromEnv(testEnv('postgresql://x@127.0.0.1/db', { LOG_FORMAT: 'pretty' })).logFormat).toBe('pretty');
    expect(AppConfig.fromEnv(testEnv('postgresql://x@127.0.0.1/db')).logFormat).toBeUndefined();
    expect(() => AppConfig.fromEnv(testEnv('postgresql://x@127.0.0.1/db', { LOG_FORMAT: 'xml' }))).toThrow(ConfigError);
  });
});
