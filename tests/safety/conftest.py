"""tests/safety: the case files here are data for suite runs in a subprocess.

They are given to those runs by path; ``pytest --conformance tests`` must not collect
them as cases of its own (the secrets cases fail by design).
"""

collect_ignore_glob = ["cases/*.yaml"]
