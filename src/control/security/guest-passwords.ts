// R3.4, R3.1: a guest account's password as the config drive carries it, a SHA-512 crypt(3)
// hash (`$6$salt$hash`, what the guest's libcrypt and cloud-init accept). The clear password
// never leaves the control plane: the HostDriver gets only this hash (docs/architecture.md).
import { randomBytes } from 'node:crypto';
import { encrypt } from 'unixcrypt';
import { invalidData } from '../../domain/errors.ts';

const SALT_ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A fresh 16-character crypt salt from the CSPRNG (64 symbols: one byte's low 6 bits each). */
function cryptSalt(): string {
  return [...randomBytes(16)].map((b) => SALT_ALPHABET[b & 63]).join('');
}

/** SHA-512 crypt of `password` with a random salt; `salt` is for tests comparing with another implementation. */
export function guestPasswordHash(password: string, salt: string = cryptSalt()): string {
  if (password.length === 0 || /[\r\n]/.test(password))
    throw invalidData('guest_password.invalid', 'a password is one non-empty line');
  return encrypt(password, `$6$${salt}`);
}
