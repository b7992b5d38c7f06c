"""Running on a public server: the password, limits, quotas, the capacity queue, request-size
and network policy, ownership of tasks, work files and the callback door. May import ``text``,
``errors``, ``settings`` and ``api``; never ``flow`` or ``ui``."""
