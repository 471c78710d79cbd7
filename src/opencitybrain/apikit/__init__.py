"""HTTP plumbing every capability's router shares: auth dependencies, problems, services.

It sits between the capabilities and ``opencitybrain.api`` (the app factory): routers in
``<capability>/api.py`` import this, never ``opencitybrain.api``, which imports them.
"""
