"""The phase verifier `mcp-verify` (`make verify PHASE=N`): a tutorial phase's Verify block.

checks.py   the three kinds of check, the context they share, the PASS/FAIL report
phases.py   every phase's checks, as one table
live.py     the live checks that are more than one command (port-forward, tokens, logs)
record.py   the pytest plugin that tells the verifier each test's outcome
cli.py      the command line
"""
