"""`python -m triplane.package <engine address>`: the component package's provider, as the engine starts it."""

from triplane.package import serve

serve()
