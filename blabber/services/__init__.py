"""Plain-Python business rules. Every function takes a SQLModel ``session``.

Services are the only place that checks permissions and the only place that
publishes realtime events, always after the transaction commits.
"""
