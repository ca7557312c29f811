"""Private pull-through caches of the public registries, one per cloud network that runs clusters.

`aws`: ECR pull-through cache rules. `azure`: an Azure Container Registry with cache rules and a
private endpoint. `gcp`: Artifact Registry remote repositories. Each gives a cluster the
`images.ImageSource` that rewrites every image Triplane deploys to it.
"""
