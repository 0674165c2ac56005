import { describe, expect, it } from 'vitest';
import { redactSecrets, urlCredentials, withoutCredentials } from '../../../gateway/model/redact.js';

describe('redactSecrets', () => {
  it.each([
    ['mqtt://user:pass@broker:1883', 'mqtt://user:***@broker:1883'],
    ['mqtts://dev%40b2:p%3Aw%2Fd@[::1]:8883/x', 'mqtts://dev%40b2:***@[::1]:8883/x'],
    ['http://admin:s3cret@influx:8086/write?db=x', 'http://admin:***@influx:8086/write?db=x'],
    ['HTTP://Admin:S3cret@Influx', 'HTTP://Admin:***@Influx'],
    ['http://influx:8086/write?db=x&u=admin&p=s3cret&precision=ms', 'http://influx:8086/write?db=x&u=admin&p=***&precision=ms'],
    ['https://h/api?token=abc.def&access_token=xyz', 'https://h/api?token=***&access_token=***'],
    ['https://ghp_0123456789abcdefghijkl@host/repo', 'https://***@host/repo'],
    ['connect ECONNREFUSED 127.0.0.1:1883 (mqtt://u:pw@127.0.0.1:1883)', 'connect ECONNREFUSED 127.0.0.1:1883 (mqtt://u:***@127.0.0.1:1883)'],
    ['Request cannot be constructed from a URL that includes credentials: http://a:b@h/write', 'Request cannot be constructed from a URL that includes credentials: http://a:***@h/write'],
    ['two: mqtt://a:1@x and tcp://b:2@y', 'two: mqtt://a:***@x and tcp://b:***@y'],
    ['"url":"mqtt://a:pa ss@x"', '"url":"mqtt://a:pa ss@x"'],
  ])('%s', (input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
  });

  it('leaves text without credentials alone (the same string)', () => {
    for (const s of ['mqtt://broker:1883', 'http://influx:8086/write?db=x&precision=ms', 'user@example.com wrote', 'ratio=3', 'mqtt://user@broker']) {
      expect(redactSecrets(s)).toBe(s);
    }
  });

  it('a password with @ inside (unencoded) is still hidden', () => {
    expect(redactSecrets('mqtt://user:p@ss@broker/x')).toBe('mqtt://user:***@broker/x');
  });
});

describe('urlCredentials / withoutCredentials', () => {
  it('finds userinfo and secret parameters', () => {
    expect(urlCredentials('mqtt://u:p%40ss@h')).toEqual({ username: 'u', password: 'p@ss', params: [] });
    expect(urlCredentials('http://h:8086?u=a&p=b')).toEqual({ params: ['p'] });
    expect(urlCredentials('http://h:8086')).toBeUndefined();
    expect(urlCredentials('embedded')).toBeUndefined();
  });

  it('strips userinfo from any scheme', () => {
    expect(withoutCredentials(new URL('mqtt://u:p@h:1883/')).href).toBe('mqtt://h:1883/');
    expect(withoutCredentials(new URL('http://u:p@h:8086/write?db=x')).href).toBe('http://h:8086/write?db=x');
  });
});
