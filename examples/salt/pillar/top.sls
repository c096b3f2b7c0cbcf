# /srv/pillar/top.sls: the saltmail pillar (it holds the SMTP password)
# goes to the master's own minion only; no other minion ever sees it.
base:
  'master1.example.com':
    - saltmail
