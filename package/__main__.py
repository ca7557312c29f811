"""The plugin entry point `pulumi package add ./package` runs: Triplane's component package provider.

The Python language host runs this folder with the virtualenv it builds from `requirements.txt`,
passing the engine's address; `triplane.package.serve` prints the port it listens on.
"""

from triplane.package import serve

serve()
