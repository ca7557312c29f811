"""The plugin `pulumi package add <this folder>` runs: Triplane's component package provider.

The Python language host builds a virtualenv (`venv`, in this folder) from `requirements.txt` and
runs `python <this folder> <engine address>`; `triplane.package.serve` prints the port it listens on.

`requirements.txt` installs Triplane from this checkout (`..`: pip reads the path from this folder,
where the language host runs it), so the package always serves the components of the tree it sits
in, with the dependencies `pyproject.toml` declares. Outside a checkout, a plugin folder is these
three files with the requirement naming the Triplane release (or wheel) to serve; the provider is
the same `triplane.package` module, also runnable as `python -m triplane.package`.
"""

from triplane.package import serve

serve()
