import { readFileSync } from 'node:fs';
import { hashPassword } from '../broker/passwords.js';
import type { Command } from './common.js';

export const hashPasswordCommand: Command = {
  usage: 'fcgw hash-password [PASSWORD]\n  Print a scrypt hash for broker.embedded.users[].password_hash (reads stdin without an argument).',
  run(_opts, positionals) {
    const password = positionals[0] ?? readFileSync(0, 'utf8').replace(/\r?\n$/, '');
    if (password.length < 8) {
      process.stderr.write('fcgw: a password needs at least 8 characters\n');
      return 2;
    }
    process.stdout.write(`${hashPassword(password)}\n`);
    return 0;
  },
};
