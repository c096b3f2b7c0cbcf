# /srv/pillar/saltmail.sls: what examples/salt/saltmail installs. The
# master compiles pillar as its own user, so keep this file root:salt 0640
# (never under file_roots: every minion can read salt:// files).
saltmail:
  # user: salt                 # who runs saltmail: by default the `user:` of the master's config
  # The config file, written as YAML (README: Configuration). No spool_dir
  # or state_dir here (set below), and no password (smtp_password, below).
  # Quote 'on' when you set it: unquoted, YAML reads it as true.
  settings:
    from: Salt <salt@master1.example.com>
    to:
      - ops@example.com
    smtp:
      host: smtp.example.com
      port: 587
      tls: starttls
      user: saltmail
  # Written to password_file (0600, the master's user) and named in the
  # config as smtp.password_file; never shown in a state's changes.
  smtp_password: CHANGE-ME
  # Paths, with their defaults:
  # bin: /usr/local/bin/saltmail
  # config: /etc/salt/saltmail.yaml
  # password_file: /etc/salt/saltmail.pass
  # spool_dir: /var/spool/saltmail
  # state_dir: /var/spool/saltmail-state
  # master_conf: /etc/salt/master   # where the master's `user:` is read
  # master_d: /etc/salt/master.d
  # reactor_dir: /srv/reactor
  # cron_d: /etc/cron.d
