"""Pure product rules of groupsms: no I/O, no database, nothing outside domain.

Services load facts, call these functions and act on the result.
"""
