{#- /srv/reactor/saltmail.sls: hand a minion's state-run return to saltmail.

    The guard: only state runs start anything. A test.ping or
    saltutil.find_job return starts no runner job and no process at all;
    saltmail's own filter is the second line of defence.

    The transport: the event goes to saltmail's stdin as base64
    (`--base64`), never on a command line (minion data is untrusted).
    Base64, because cmd.run rewrites every backslash + "n" pair in its
    stdin into a newline, which corrupts JSON escapes (diffs, multi-line
    comments), and its opt-out stdin_raw_newlines is broken in 3006.0;
    and because an unquoted {{ data|json }} would reach the command as a
    Python repr.

    No loop: runner.salt.cmd runs cmd.run on the master itself, which
    fires salt/run/... events, never salt/job/*/ret/*.

    One try (--retry-attempts 1): the master's one reactor worker
    (master.d/saltmail.conf says why) runs these one after another, so
    a run must not hold it for a minute of retries while the server is
    down; what is not delivered is spooled, and the flush (cron or
    timer) sends it.

    No --smtp-* flags here: delivery settings come from the config file
    (or SALTMAIL_* in the master's environment), so one file serves
    every master. -#}
{%- set state_funs = ['state.apply', 'state.highstate', 'state.sls', 'state.single',
                      'state.top', 'state.sls_id', 'state.low', 'state.high', 'state.pkg',
                      'state.template', 'state.template_str', 'state.test',
                      'state.request', 'state.run_request'] %}
{%- if data.get('fun') in state_funs %}
saltmail_report:
  runner.salt.cmd:
    - args:
      - fun: cmd.run
      - cmd: /usr/local/bin/saltmail --config /etc/salt/saltmail.yaml --base64 --retry-attempts 1
      - stdin: {{ data | json | base64_encode }}
      - python_shell: False
{%- endif %}
