import { describe, expect, it } from 'vitest';

import { UsageError } from '../../pipeline/errors.ts';
import { HELP, parseConfig, parseSize } from './options.ts';
import { main } from '../main.ts';

const CWD = '/srv/registry';

describe('parseConfig', () => {
  it('serves the current folder at main by default', () => {
    expect(parseConfig([], {}, CWD)).toEqual({
      repo: { kind: 'local', dir: CWD },
      ref: 'main',
      pollMs: 15_000,
      webhookSecret: undefined,
      host: '0.0.0.0',
      port: 8080,
      bodyLimitBytes: undefined,
      batchLimit: 1000,
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
      logLevel: 'info',
      shutdownMs: 10_000,
      dataDir: '/srv/registry/.pinml/serve',
      predictionLog: {
        file: '/srv/registry/.pinml/serve/predictions.db',
        logInputs: true,
        sampleRate: 1,
        retentionMs: 30 * 86_400_000,
        maxRows: 10_000_000,
        liveIntervalMs: 60_000,
        liveWindowMs: 86_400_000,
      },
      adminToken: undefined,
    });
  });

  it('reads the environment, and a flag wins over its variable', () => {
    const env = {
      PINML_REPO: 'other',
      PINML_REF: 'release',
      PINML_POLL_INTERVAL: '0.5',
      PINML_WEBHOOK_SECRET: 's3cret',
      PORT: '9000',
      PINML_BODY_LIMIT: '64kb',
      PINML_BATCH_LIMIT: '50',
      PINML_LOG_LEVEL: 'debug',
      PINML_REQUEST_TIMEOUT: '20',
    };
    const c = parseConfig(['--port', '9100', '--batch-limit', '7'], env, CWD);
    expect(c).toMatchObject({
      repo: { kind: 'local', dir: '/srv/registry/other' },
      ref: 'release',
      pollMs: 500,
      webhookSecret: 's3cret',
      port: 9100,
      bodyLimitBytes: 65536,
      batchLimit: 7,
      logLevel: 'debug',
      requestTimeoutMs: 20_000,
      headersTimeoutMs: 10_000,
    });
  });

  it('clones an https remote with the token from the environment, into a cache folder per URL and ref', () => {
    const c = parseConfig(
      ['--repo', 'https://github.com/acme/models.git'],
      { GITHUB_TOKEN: 'ghs_x' },
      CWD,
    );
    expect(c).not.toBe(HELP);
    if (c === HELP) return;
    expect(c.repo).toMatchObject({
      kind: 'remote',
      url: 'https://github.com/acme/models.git',
      token: 'ghs_x',
    });
    const other = parseConfig(
      ['--repo', 'https://github.com/acme/models.git', '--ref', 'prod'],
      {},
      CWD,
    );
    if (other === HELP || c.repo.kind !== 'remote' || other.repo.kind !== 'remote')
      throw new Error('remote expected');
    expect(other.repo.cacheDir).not.toBe(c.repo.cacheDir);
  });

  it('takes credentials out of a URL and keeps them out of the clone URL', () => {
    const c = parseConfig(
      ['--repo', 'https://x-access-token:abc@github.com/acme/models.git'],
      {},
      CWD,
    );
    if (c === HELP || c.repo.kind !== 'remote') throw new Error('remote expected');
    expect(c.repo.url).toBe('https://github.com/acme/models.git');
    expect(c.repo.token).toBe('abc');
  });

  it.each([
    [['--port', '70000'], {}, /--port/],
    [['--port', 'http'], {}, /--port/],
    [
      ['--poll-interval', '-1'],
      {},
      /--poll-interval \(PINML_POLL_INTERVAL\) must be a number of seconds >= 0 \(0 = no polling: webhooks only\), got "-1"/,
    ],
    [
      ['--request-timeout', '0'],
      {},
      /--request-timeout \(PINML_REQUEST_TIMEOUT\) must be a number of seconds > 0/,
    ],
    [['--headers-timeout', '60'], {}, /must not be longer than --request-timeout/],
    [['--batch-limit', '0'], {}, /--batch-limit/],
    [['--batch-limit', '2.5'], {}, /--batch-limit/],
    [['--body-limit', 'big'], {}, /--body-limit/],
    [['--log-level', 'loud'], {}, /--log-level/],
    [['--ref', '../main'], {}, /--ref/],
    [['--repo', 'http://git.example.com/r.git'], { GITHUB_TOKEN: 't' }, /unencrypted/],
    [['--repo', 'ftp://example.com/r.git'], {}, /https/],
    [['--bogus'], {}, /Unknown option/],
  ])('refuses %j with a usage error naming the option', (argv, env, message) => {
    expect(() => parseConfig(argv, env, CWD)).toThrow(UsageError);
    expect(() => parseConfig(argv, env, CWD)).toThrow(message);
  });

  it('allows plain http to a loopback git server (tests), token or not', () => {
    const c = parseConfig(['--repo', 'http://127.0.0.1:9/r.git'], { PINML_GIT_TOKEN: 't' }, CWD);
    expect(c).toMatchObject({ repo: { kind: 'remote', token: 't' } });
  });

  it('answers --help', () => {
    expect(parseConfig(['--help'], {}, CWD)).toBe(HELP);
  });

  it('reads sizes in bytes, kb and mb', () => {
    expect(parseSize('1mb')).toBe(1048576);
    expect(parseSize('512KB')).toBe(524288);
    expect(parseSize('4096')).toBe(4096);
    expect(() => parseSize('1')).toThrow(UsageError);
  });
});

describe('main', () => {
  it('exits 2 on a usage error without starting anything', async () => {
    expect(await main(['--port', 'nope'], {})).toBe(2);
  });
});
