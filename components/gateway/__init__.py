"""The AI gateway: Envoy AI Gateway on Envoy Gateway, one per environment, in front of every use case.

`install` puts the gateway on a cluster (releases, Redis, proxy, Gateway, scrape); `routes` gives each
use case its route, backends, credentials, consumers and limits.
"""
