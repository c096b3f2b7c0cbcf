{#- Install saltmail on a Salt master with Salt: the binary, its config
    (0600), the spool, the reactor mapping and SLS, and the cron entries.

    Files it serves, under salt://saltmail/files/ (next to this SLS):
      saltmail        the binary (go build)
      saltmail.yaml   the config (start from examples/saltmail.yaml)
      reactor.sls     examples/reactor/saltmail.sls
      master.conf     examples/master.d/saltmail.conf
      cron            examples/cron/saltmail
    Then `salt-call state.apply saltmail` on the master, and restart the
    salt-master once so that it reads the reactor mapping.

    Paths come from the pillar key `saltmail` (bin, config, master_d,
    reactor_dir, cron_d, spool_dir); the shipped files name the defaults
    and are rewritten to the real ones. -#}
{%- set sm = salt['pillar.get']('saltmail', {}) %}
{%- set bin = sm.get('bin', '/usr/local/bin/saltmail') %}
{%- set config = sm.get('config', '/etc/salt/saltmail.yaml') %}
{%- set master_d = sm.get('master_d', '/etc/salt/master.d') %}
{%- set reactor_dir = sm.get('reactor_dir', '/srv/reactor') %}
{%- set cron_d = sm.get('cron_d', '/etc/cron.d') %}
{%- set spool_dir = sm.get('spool_dir', '/var/spool/saltmail') %}
{%- set paths = {'/usr/local/bin/saltmail': bin,
                 '/etc/salt/saltmail.yaml': config,
                 '/srv/reactor/saltmail.sls': reactor_dir ~ '/saltmail.sls'} %}

saltmail_binary:
  file.managed:
    - name: {{ bin }}
    - source: salt://saltmail/files/saltmail
    - mode: '0755'
    - makedirs: True

saltmail_config:
  file.managed:
    - name: {{ config }}
    - source: salt://saltmail/files/saltmail.yaml
    - mode: '0600'
    - makedirs: True

saltmail_spool:
  file.directory:
    - name: {{ spool_dir }}
    - mode: '0700'
    - makedirs: True

{%- for id, src, dest in [('reactor', 'reactor.sls', reactor_dir ~ '/saltmail.sls'),
                          ('master_d', 'master.conf', master_d ~ '/saltmail.conf'),
                          ('cron', 'cron', cron_d ~ '/saltmail')] %}
{%- set ns = namespace(text=salt['cp.get_file_str']('salt://saltmail/files/' ~ src)) %}
{%- for default, real in paths.items() %}
{%- set ns.text = ns.text | replace(default, real) %}
{%- endfor %}

saltmail_{{ id }}:
  file.managed:
    - name: {{ dest }}
    - mode: '0644'
    - makedirs: True
    - contents: {{ ns.text | yaml_dquote }}
    - require:
      - file: saltmail_binary
      - file: saltmail_config
{%- endfor %}
