"""The clouds Triplane supports, each through one seam (`stacks.clouds.seam.CloudSeam`)."""

from __future__ import annotations

from triplane.stacks.clouds import aws, azure, gcp
from triplane.stacks.clouds.seam import CloudSeam, NetworkRef

SEAMS: dict[str, CloudSeam] = {seam.name: seam for seam in (aws.SEAM, azure.SEAM, gcp.SEAM)}
"""Cloud name -> its seam, in the order stacks build the clouds' shared pieces."""

__all__ = ["SEAMS", "CloudSeam", "NetworkRef"]
