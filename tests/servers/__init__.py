"""Real servers on loopback for the test suite, one module per server (see README.md here).

Every server binds 127.0.0.1 on a free port, uses certificates from a session test CA, and is
stopped by a finalizer with a bounded wait, so a failing test never leaves a process behind.
"""
