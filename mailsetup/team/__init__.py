"""A team's set-up from one CSV file: read it (``csvfile``), write every row's files
(``bulk``), check every row's mailbox (``check``), with passwords from ``passwords``.

One IT helper sets up 5 to 500 mailboxes at once; everything here streams row by row so that
memory does not grow with the file, and one bad row never stops the good ones.
"""

# check --csv: units (one domain's DNS, the servers, one row's logins) at a time. Four keeps
# well inside what providers allow one client address before they throttle logins.
DEFAULT_PARALLEL = 4
MAX_PARALLEL = 32
