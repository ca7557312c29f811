"""The self-managed pattern: Kubernetes clusters with GPU node pools, and model servers on them.

`eks`, `gke`, `aks`: the clusters Triplane creates (private API, private nodes, encrypted secrets,
control-plane logs). `gpu_node_pool`: a GPU node pool on any of them. `device_plugin`,
`cluster_autoscaler`, `storage`: what EKS lacks and GKE/AKS bring (the NVIDIA device plugin, node
group autoscaling, encrypted cache storage classes). `model_server`: TGI (or vLLM) on any cluster.
`sizing`: the GPU and model catalogs behind the sizing guard.
"""
