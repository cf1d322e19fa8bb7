"""The web platform: the REST API under ``/api/v1`` (and tomorrow the French pages), one more
front end over the services, like :mod:`hopia.cli`.

Layout, which the next axes copy:

- :mod:`.app`: ``create_app(settings)``, the factory: state, middleware, error handlers, routers;
- :mod:`.deps`: the request's dependencies (the service :class:`Context` of the logged-in user,
  :data:`~.deps.CurrentUser`);
- :mod:`.roles`: the route side of the role x action rules (``Allow("document.research")``);
  the rules themselves are :data:`hopia.platform.identity.roles.RULES`, which services apply too;
- :mod:`.errors`: every :class:`~hopia.platform.exceptions.HopiaError` as a JSON problem (French
  message, stable ``code``), every other failure as a French 500 without a trace;
- :mod:`.auth`: login and logout routes; :mod:`.cookies`: the session cookie and its flags;
- ``routes/<area>.py``: thin routes (parse, call one service, return its typed result);
- ``schemas/<area>.py``: the API's request and response models where the service's are not
  already pydantic models fit to publish.
"""
