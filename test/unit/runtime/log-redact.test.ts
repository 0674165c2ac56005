import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../gateway/runtime/log.js';

/** The gateway's logger hides a URL's password wherever a caller put it: message, fields, errors. */
describe('createLogger: passwords inside URLs', () => {
  it('are redacted in the message, string fields, nested fields and errors', () => {
    let out = '';
    const destination = new Writable({
      write(c: Buffer, _e, cb) {
        out += c.toString();
        cb();
      },
    });
    const log = createLogger({ level: 'info', destination });
    log.warn({ url: 'mqtt://u:Secret-1@h:1883', sink: { target: 'http://a:Secret-2@i:8086/write?db=x' } }, 'lost http://a:Secret-3@i');
    log.error({ err: new Error('fetch http://i/write?u=a&p=Secret-4 failed') }, 'write failed');
    log.info('plain mqtt://u:Secret-5@h');
    expect(out).not.toMatch(/Secret-\d/);
    expect(out).toContain('mqtt://u:***@h:1883');
    expect(out).toContain('p=***');
    expect(out.split('\n').filter(Boolean)).toHaveLength(3);
  });
});
