"""The embedded reference server: the executable form of contract.md.

It imports nothing from the suite's runner; the two meet only over HTTP/SOAP, as a
real target would.  It shares with the suite only the profile format
(:mod:`conformance.profile`) and the bundled data (:mod:`conformance.resources`).
"""
