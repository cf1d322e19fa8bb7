"""Identity of the web platform's users: local accounts, passwords, sessions, and the role x
action rules (:mod:`.roles`) that the access policy applies to every service call.

Storage and rules live here, in the platform, so that a service refuses whatever front end
calls it; the use cases (create an account, log in) are services (``hopia.services.accounts``).
Nothing here imports a web framework.
"""
