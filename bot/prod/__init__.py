"""The production stack on one machine (`make run-prod`): PostgreSQL, Redis, nginx, several processes of each kind.

Rasa's distributed set-up, with Debian's packages: N Rasa processes (RASA_REPLICAS, default 2) sharing the
PostgreSQL tracker store and the Redis lock store, socket.io rooms shared through Redis, 2 action servers,
2 portals, all behind nginx, which exposes only the public routes. Data and rendered configuration live in
var/prod/; the launcher's supervisor restarts any process that dies.
"""
