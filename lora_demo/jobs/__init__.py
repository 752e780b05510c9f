"""Work that runs in a worker process, by name (registry.JOBS): each job takes plain values (the flat
settings and the language) and a Guard, and yields payload.Update values ready to relay.

This package's own import is light (payload has no torch): the web process imports the payload types,
and only a worker imports registry and with it the engine.
"""
