{#- Install saltmail on a Salt master with Salt: the binary, its config and
    SMTP password (from pillar), the spool and state dirs, and ONE way to
    run it (pillar saltmail:mode): `watch` (the default: a systemd service
    that mails one digest per job), `reactor` (the reactor mapping and
    SLS: a mail per minion return) or `cron` (the nightly highstate
    digest). Each mode removes the files of the others, since two modes
    mail every job twice; the cron flush line is there in every mode.

    Everything that runs saltmail runs as the master's user: the reactor
    (runner.salt.cmd runs in the salt-master process) and the cron lines
    (their user column is rewritten to it). Salt's own deb/rpm packages
    run the master as `user: salt`, so that user must read the config and
    own the spool and the state dir; root reads them anyway.

      binary                 root:root    0755  the master user runs it, cannot change it
      config, password file  USER:GROUP   0600  saltmail warns when a file with a
                                                password is readable by its group
      spool_dir, state_dir   USER:GROUP   0700  saltmail refuses dirs that others can
                                                write or that another user owns
      reactor, master.d, cron  root       0644  no secret in them

    No secret goes through the fileserver: every minion may read any
    salt:// file (cp.get_file_str), while pillar reaches only the minions
    its top file targets. So the config is rendered here from the pillar
    dict saltmail:settings, and the password from saltmail:smtp_password is
    written to its own file (show_changes off, so no diff carries it into
    the job's return, the job cache or a mail).

    Files it serves, under salt://saltmail/files/ (next to this SLS):
      saltmail        the binary (go build)
      reactor.sls     examples/reactor/saltmail.sls
      master.conf     examples/master.d/saltmail.conf
      cron            examples/cron/saltmail
      saltmail-watch.service   examples/systemd/saltmail-watch.service
    Then `salt-call state.apply saltmail` on the master; after adding or
    removing the reactor mapping (mode reactor, or leaving it), restart
    the salt-master once so that it reads it.

    Pillar keys under `saltmail` (examples/salt/pillar/saltmail.sls):
      settings        saltmail's settings (README: Configuration), without
                      spool_dir, state_dir and the password, set here
      smtp_password   written to password_file, named in the config
      user            who runs saltmail; default: the `user:` of the master's
                      config (master_conf, then master_d/*.conf, as Salt reads
                      them), else root. Not config.get('user'): on the
                      master's minion that is the minion's user (root).
      bin, config, password_file, master_conf, master_d, reactor_dir,
      cron_d, systemd_dir, spool_dir, state_dir   paths (defaults below);
                      the shipped files name the defaults and are rewritten.
      mode            watch (default), reactor or cron
      start_service   mode watch: enable and start the service (default
                      True; False only writes the unit, e.g. no systemd). -#}
{%- set sm = salt['pillar.get']('saltmail', {}) %}
{%- set bin = sm.get('bin', '/usr/local/bin/saltmail') %}
{%- set config = sm.get('config', '/etc/salt/saltmail.yaml') %}
{%- set password_file = sm.get('password_file', config.rsplit('/', 1)[0] ~ '/saltmail.pass') %}
{%- set master_d = sm.get('master_d', '/etc/salt/master.d') %}
{%- set master_conf = sm.get('master_conf', master_d.rsplit('/', 1)[0] ~ '/master') %}
{%- set reactor_dir = sm.get('reactor_dir', '/srv/reactor') %}
{%- set cron_d = sm.get('cron_d', '/etc/cron.d') %}
{%- set systemd_dir = sm.get('systemd_dir', '/etc/systemd/system') %}
{%- set mode = sm.get('mode', 'watch') %}

{#- The config, a copy of the pillar's (never change the pillar itself).
    Its spool_dir and state_dir are the dirs made below: one value each. #}
{%- set cfg = {} %}
{%- do cfg.update(sm.get('settings', {})) %}
{%- set smtp = {} %}
{%- do smtp.update(cfg.get('smtp', {})) %}
{%- set spool_dir = sm.get('spool_dir', cfg.get('spool_dir', '/var/spool/saltmail')) %}
{#- saltmail's own default: saltmail-state beside the spool #}
{%- set state_dir = sm.get('state_dir', cfg.get('state_dir', spool_dir.rsplit('/', 1)[0] ~ '/saltmail-state')) %}
{%- set problems = [] %}
{%- for key, value in [('spool_dir', spool_dir), ('state_dir', state_dir)] %}
{%- if cfg.get(key, value) != value %}
{%- do problems.append('saltmail:settings:' ~ key ~ ' (' ~ cfg[key] ~ ') differs from saltmail:' ~ key ~ ' (' ~ value ~ '): set one') %}
{%- endif %}
{%- endfor %}
{%- if mode not in ('watch', 'reactor', 'cron') %}
{%- do problems.append('saltmail:mode (' ~ mode ~ ') must be watch, reactor or cron') %}
{%- endif %}
{%- if 'password' in smtp %}
{%- do problems.append('saltmail:settings:smtp:password would show in the config diff: use saltmail:smtp_password') %}
{%- endif %}
{%- do cfg.update({'spool_dir': spool_dir, 'state_dir': state_dir}) %}
{%- if 'smtp_password' in sm %}
{%- do smtp.update({'password_file': password_file}) %}
{%- endif %}
{%- if smtp %}
{%- do cfg.update({'smtp': smtp}) %}
{%- endif %}

{#- The master's user, as salt-master reads it: master, then master.d/*.conf
    in order, the last `user:` wins. #}
{%- set found = namespace(user='root') %}
{%- set master_files = [] %}
{%- if salt['file.file_exists'](master_conf) %}
{%- do master_files.append(master_conf) %}
{%- endif %}
{%- if salt['file.directory_exists'](master_d) %}
{%- do master_files.extend(salt['file.find'](master_d, name='*.conf', type='f', maxdepth=1) | sort) %}
{%- endif %}
{%- for path in master_files %}
{%- set opts = salt['file.read'](path) | load_yaml %}
{%- if opts is mapping and opts.get('user') %}
{%- set found.user = opts['user'] %}
{%- endif %}
{%- endfor %}
{%- set user = sm.get('user', found.user) %}
{%- set info = salt['user.info'](user) %}
{%- set group = salt['file.gid_to_group'](info['gid']) if info else user %}

{%- if problems %}

saltmail_pillar:
  test.fail_without_changes:
    - comment: {{ problems | join('; ') | yaml_dquote }}
{%- endif %}

saltmail_binary:
  file.managed:
    - name: {{ bin }}
    - source: salt://saltmail/files/saltmail
    - user: root
    - group: {{ salt['file.gid_to_group'](0) }}
    - mode: '0755'
    - makedirs: True

saltmail_config:
  file.managed:
    - name: {{ config }}
    - user: {{ user }}
    - group: {{ group }}
    - mode: '0600'
    - makedirs: True
    - contents: {{ ('# Managed by Salt from the pillar saltmail:settings: edit the pillar, not this file.\n'
                    ~ cfg | yaml(False)) | yaml_dquote }}
{%- if problems %}
    - require:
      - test: saltmail_pillar
{%- endif %}
{%- if 'smtp_password' in sm %}

saltmail_password:
  file.managed:
    - name: {{ password_file }}
    - user: {{ user }}
    - group: {{ group }}
    - mode: '0600'
    - makedirs: True
    - contents_pillar: saltmail:smtp_password
    - show_changes: False
    - require_in:
      - file: saltmail_config
{%- endif %}

{#- recurse: files that root left there (an older install ran saltmail as
    root) become the master user's too, or it could not flush them. #}
{%- for id, dir in [('spool', spool_dir), ('state', state_dir)] %}

saltmail_{{ id }}:
  file.directory:
    - name: {{ dir }}
    - user: {{ user }}
    - group: {{ group }}
    - mode: '0700'
    - recurse: [user, group]
    - makedirs: True
{%- endfor %}

{#- The shipped files name the default paths and run cron as root; the
    user column goes first, before the binary's path is rewritten. #}
{%- set rewrites = [(' root /usr/local/bin/saltmail', ' ' ~ user ~ ' /usr/local/bin/saltmail'),
                    ('/usr/local/bin/saltmail', bin),
                    ('/etc/salt/saltmail.yaml', config),
                    ('/srv/reactor/saltmail.sls', reactor_dir ~ '/saltmail.sls')] %}
{%- set files = {'reactor': ('reactor.sls', reactor_dir ~ '/saltmail.sls', mode == 'reactor'),
                 'master_d': ('master.conf', master_d ~ '/saltmail.conf', mode == 'reactor'),
                 'cron': ('cron', cron_d ~ '/saltmail', True)} %}
{%- for id, spec in files | dictsort %}
{%- set src, dest, wanted = spec %}
{%- if wanted %}
{%- set ns = namespace(text=salt['cp.get_file_str']('salt://saltmail/files/' ~ src)) %}
{%- for default, real in rewrites %}
{%- set ns.text = ns.text | replace(default, real) %}
{%- endfor %}
{%- if id == 'cron' and mode != 'cron' %}
{#- the nightly digest only in mode cron: with watch or the reactor it
    would mail each of its jobs a second time #}
{%- set kept = [] %}
{%- for l in ns.text.splitlines() if 'saltmail run ' not in l %}
{%- do kept.append(l) %}
{%- endfor %}
{%- set ns.text = kept | join('\n') ~ '\n' %}
{%- endif %}

saltmail_{{ id }}:
  file.managed:
    - name: {{ dest }}
    - user: root
    - mode: '0644'
    - makedirs: True
    - contents: {{ ns.text | yaml_dquote }}
    - require:
      - file: saltmail_binary
      - file: saltmail_config
      - file: saltmail_spool
      - file: saltmail_state
{%- else %}

saltmail_{{ id }}:
  file.absent:
    - name: {{ dest }}
{%- endif %}
{%- endfor %}

{#- mode watch: the unit, for the master's user, with the real paths #}
{%- set unit = systemd_dir ~ '/saltmail-watch.service' %}
{%- if mode == 'watch' %}
{%- set ns = namespace(text=salt['cp.get_file_str']('salt://saltmail/files/saltmail-watch.service')) %}
{%- for default, real in [('User=salt', 'User=' ~ user), ('Group=salt', 'Group=' ~ group),
                          ('/usr/bin/saltmail ', bin ~ ' '), ('/etc/salt/saltmail.yaml', config)] %}
{%- set ns.text = ns.text | replace(default, real) %}
{%- endfor %}

saltmail_watch_unit:
  file.managed:
    - name: {{ unit }}
    - user: root
    - mode: '0644'
    - makedirs: True
    - contents: {{ ns.text | yaml_dquote }}
    - require:
      - file: saltmail_binary
      - file: saltmail_config
      - file: saltmail_spool
      - file: saltmail_state
{%- if sm.get('start_service', True) %}

saltmail_watch:
  service.running:
    - name: saltmail-watch
    - enable: True
    - watch:
      - file: saltmail_watch_unit
      - file: saltmail_config
{%- endif %}
{%- else %}

saltmail_watch_unit:
  file.absent:
    - name: {{ unit }}
{%- endif %}
