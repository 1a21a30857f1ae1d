import { join } from 'node:path';

/** What a private Dovecot's configuration is made of. */
export interface DovecotConfigInput {
  dir: string;
  port: number;
  /** IMAPS port, with the certificate and key at `<dir>/tls/`; none: `ssl = no`. */
  imapsPort?: number;
  /** Greeting that tells this instance from another that took the port. */
  greeting: string;
  /** The unprivileged account every service and every mailbox runs as. */
  account: { user: string; group: string; uid: number; gid: number };
  authFailureDelaySeconds: number;
  /** Whether AUTHENTICATE XOAUTH2 is offered (a bearer token equal to the user's password logs in). */
  xoauth2: boolean;
}

/**
 * A complete dovecot.conf (no include of /etc/dovecot): every path inside `dir`, listening on
 * 127.0.0.1 only, passwd-file users with one static uid, maildir homes, and rawlogs of every
 * connection before login (`imap-login -R`) and after it (`rawlog_dir`).
 *
 * Chroots are off: an unprivileged master cannot chroot, and imap-login's rawlog folder must be
 * reachable by its absolute path.
 */
export function dovecotConfig(input: DovecotConfigInput): string {
  const { dir, account } = input;
  const tls = input.imapsPort !== undefined;
  return `# written by libs/testing PrivateDovecot for one test run
protocols = imap
listen = 127.0.0.1
base_dir = ${join(dir, 'run')}
state_dir = ${join(dir, 'state')}
log_path = ${join(dir, 'dovecot.log')}
info_log_path = ${join(dir, 'dovecot.log')}
debug_log_path = ${join(dir, 'dovecot.log')}
login_greeting = ${input.greeting}
verbose_proctitle = yes

default_internal_user = ${account.user}
default_internal_group = ${account.group}
default_login_user = ${account.user}
first_valid_uid = ${account.uid}
first_valid_gid = ${account.gid}

ssl = ${tls ? 'yes' : 'no'}
${tls ? `ssl_cert = <${join(dir, 'tls', 'cert.pem')}\nssl_key = <${join(dir, 'tls', 'key.pem')}` : ''}

disable_plaintext_auth = no
# xoauth2: Dovecot checks the bearer token as the user's password (passwd-file), so a token user is a password line
auth_mechanisms = plain login${input.xoauth2 ? ' xoauth2' : ''}
auth_verbose = yes
auth_failure_delay = ${input.authFailureDelaySeconds} secs
passdb {
  driver = passwd-file
  args = ${join(dir, 'passwd')}
}
userdb {
  driver = static
  args = uid=${account.uid} gid=${account.gid} home=${join(dir, 'home')}/%u
}
mail_location = maildir:~/Maildir
rawlog_dir = ${join(dir, 'rawlog')}/%u

service imap-login {
  executable = imap-login -R ${join(dir, 'rawlog-login')}
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = ${input.port}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${input.imapsPort ?? 0}
    ssl = yes
  }
}
service imap-urlauth-login {
  chroot =
}
service anvil {
  chroot =
  # no auth penalty: after a refused login Dovecot would delay every later login from 127.0.0.1 (up
  # to 15 s), so one test's wrong password would slow the next test's logins
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
`;
}
