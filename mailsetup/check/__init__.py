"""``mailsetup check``: probes (one module per protocol), a parallel runner, a typed report.

Data flows one way: ``plan.py`` turns an account and a provider into probes, ``runner.py`` runs
them at once with their own timeouts, ``report.py`` holds the results, ``table.py`` formats
them (a table for people, JSON for scripts).
Nothing here is imported by ``mailsetup --help``.
"""
