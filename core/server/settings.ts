/**
 * Top-level settings of `radiusd.conf` (everything that is not a `client`, `modules`, `policy`,
 * `server`, `app` or `templates` section). Unknown top-level items are located errors with a
 * suggestion, so a typo such as `max_request_tme` is caught by `radiusd -C`.
 */
import { conf, parseSection, type Infer } from '../config/schema';
import type { ConfSection } from '../config/ast';

const path = (doc: string) => conf.string({ doc });

/** Schema of the top level of `radiusd.conf`. */
export const MainSchema = conf.section({
  // Path variables (referenced as ${name}); only confdir, logdir, run_dir and dictionary are used by the core.
  prefix: path('Installation prefix (a variable for other paths).'),
  exec_prefix: path('Variable for other paths.'),
  sysconfdir: path('Variable for other paths.'),
  localstatedir: path('Variable for other paths (var/).'),
  sbindir: path('Variable for other paths.'),
  libdir: path('Variable for other paths.'),
  raddbdir: path('Variable for other paths.'),
  radacctdir: path('Where accounting detail files go (a variable used by module configs).'),
  confdir: path('Configuration directory; relative values are relative to the directory of radiusd.conf.'),
  modconfdir: path('Module configuration files (mods-config/).'),
  certdir: path('Variable for other paths.'),
  cadir: path('Variable for other paths.'),
  db_dir: path('Variable for other paths.'),
  logdir: path('Log directory; created when missing.'),
  run_dir: path('Directory of the pid file and the stats file; created when missing.'),
  name: conf.string({ default: 'radiusd', doc: 'Daemon name (pid file and log file names).' }),
  pidfile: conf.string({ doc: 'Pid file (default ${run_dir}/${name}.pid).' }),
  dictionary: conf.string({ doc: 'Dictionary file or directory to use instead of the bundled RADIUS dictionary.' }),
  max_request_time: conf.duration({ default: 30, min: 0, max: 120, doc: 'A request still running after this long is cancelled and gets no reply.' }),
  cleanup_delay: conf.duration({ default: 5, min: 0, max: 30, doc: 'Seconds a reply is kept for answering retransmits (listener default).' }),
  max_requests: conf.integer({ default: 0, min: 0, doc: 'Accepted for compatibility; not enforced.' }),
  hostname_lookups: conf.boolean({ default: false, doc: 'Accepted for compatibility; always off.' }),
  log: conf.subsection({
    destination: conf.enum(['files', 'stdout', 'stderr', 'null'] as const, { doc: 'Where the server log goes (default: files when logdir is set and the daemon runs in the background, else stdout).' }),
    file: conf.string({ doc: 'Log file when destination = files (default ${logdir}/${name}.log).' }),
    rotate_check_interval: conf.duration({ default: 5, min: 0, doc: 'How often the log file is checked for rotation (inode change); 0 = never.' }),
    colourise: conf.boolean({ default: false, doc: 'Accepted for compatibility; ignored.' }),
    timestamp: conf.boolean({ default: true, doc: 'Accepted for compatibility; files always carry timestamps, -X never.' }),
    auth: conf.boolean({ default: false, doc: 'Accepted for compatibility; ignored (log authentication results with linelog in send sections).' }),
    auth_accept: conf.boolean({ default: false, doc: 'Accepted for compatibility; ignored.' }),
    auth_reject: conf.boolean({ default: false, doc: 'Accepted for compatibility; ignored.' }),
    auth_badpass: conf.boolean({ default: false, doc: 'Accepted for compatibility; passwords are never logged.' }),
    auth_goodpass: conf.boolean({ default: false, doc: 'Accepted for compatibility; passwords are never logged.' }),
    msg_denied: conf.string({ doc: 'Accepted for compatibility; ignored.' }),
    syslog_facility: conf.string({ doc: 'Accepted for compatibility; ignored (no syslog destination).' }),
    stripped_names: conf.boolean({ default: false, doc: 'Accepted for compatibility; ignored.' }),
  }),
  security: conf.subsection({
    reject_delay: conf.duration({ default: 1, min: 0, max: 10, doc: 'Delay before sending Access-Reject (0 = none).' }),
    status_server: conf.boolean({ default: true, doc: 'Accepted for compatibility: Status-Server is answered on listeners whose type list includes it.' }),
    require_message_authenticator: conf.enum(['yes', 'no', 'auto'] as const, {
      default: 'auto',
      doc: 'Default for clients that do not set it (BlastRADIUS): auto = Message-Authenticator in Access-Request is required once the client has sent one.',
    }),
    limit_proxy_state: conf.enum(['yes', 'no', 'auto'] as const, {
      default: 'auto',
      doc: 'Default for clients that do not set it: drop Access-Request with Proxy-State but without Message-Authenticator.',
    }),
    max_attributes: conf.integer({ default: 200, min: 0, doc: 'Accepted for compatibility; the codec enforces its own limit.' }),
    allow_core_dumps: conf.boolean({ default: false, doc: 'Accepted for compatibility; ignored.' }),
    allow_vulnerable_openssl: conf.string({ doc: 'Accepted for compatibility; ignored.' }),
    user: conf.string({ doc: 'Not supported (run the daemon as the wanted user).' }),
    group: conf.string({ doc: 'Not supported.' }),
    chroot: conf.string({ doc: 'Not supported.' }),
  }),
  reload: conf.subsection({
    flag_file: conf.string({ doc: 'When this file appears the configuration is reloaded and the file removed (default ${run_dir}/reload.flag).' }),
    check_interval: conf.duration({ default: 5, min: 0, doc: 'How often the flag file is looked for (0 = never).' }),
    interval: conf.duration({ default: 0, min: 0, doc: 'Reload periodically (0 = off).' }),
    drain_timeout: conf.duration({ default: 0, min: 0, doc: 'Longest wait for in-flight requests of the old configuration before its modules are detached (0 = max_request_time + 1s).' }),
  }),
  stats: conf.subsection({
    file: conf.string({ doc: 'JSON counter snapshot written on SIGUSR1 and every `interval` (default ${run_dir}/${name}.stats.json).' }),
    interval: conf.duration({ default: 0, min: 0, doc: 'Write the stats file periodically (0 = only on SIGUSR1 and at exit).' }),
  }),
  thread: conf.subsection({
    workers: conf.integer({ default: 0, min: 0, max: 256, doc: 'Worker processes sharing the sockets (node:cluster); 0 = one per CPU, 1 = no fork. --workers N overrides it; -X always runs one process.' }),
    num_networks: conf.integer({ min: 0, doc: 'Accepted for v4 compatibility; ignored.' }),
    num_workers: conf.integer({ min: 0, doc: 'Accepted for v4 compatibility; use workers.' }),
  }),
  client: conf.raw({ doc: 'client NAME { … } sections.' }),
  modules: conf.raw({ doc: 'The modules section.' }),
  policy: conf.raw({ doc: 'Policies (named unlang snippets).' }),
  server: conf.raw({ doc: 'Virtual servers.' }),
  app: conf.raw({ doc: 'Apps: app <kind> [<name>] { … } (long-lived services such as the health endpoint; see core/server/README.md).' }),
  templates: conf.raw({ doc: 'Templates for $TEMPLATE.' }),
  instantiate: conf.raw({ doc: 'Accepted for FreeRADIUS v3 compatibility; ignored.' }),
  global: conf.raw({ doc: 'Library-wide settings of modules (FreeRADIUS v4 `global { ldap { ldap_debug = … } }`): accepted, not used (our modules have no process-wide library state to configure).' }),
  $TEMPLATE: conf.raw(),
});

/** Parsed top-level settings. */
export type MainSettings = Infer<typeof MainSchema>;

/** Parses the top level of a configuration tree. Throws a located `ConfError`. */
export function parseMainSettings(root: ConfSection): MainSettings {
  return parseSection(MainSchema, root, 'main');
}
