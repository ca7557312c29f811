"""The self-managed pattern: Kubernetes clusters with GPU node pools, and model servers on them.

`eks`, `gke`, `aks`: the clusters Triplane creates (private API, private nodes, encrypted secrets,
control-plane logs). `gpu_node_pool`: a GPU node pool on any of them. `device_plugin`: the NVIDIA
device plugin where the cloud does not install one. `model_server`: TGI (or vLLM) on any cluster.
`sizing`: the GPU and model catalogs behind the sizing guard.
"""
