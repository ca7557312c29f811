"""Will the model fit? GPU and model catalogs, and the memory arithmetic behind the sizing guard.

A serving pod needs room for the weights (parameters x bytes per parameter for the dtype or
quantization) plus a KV cache big enough to batch a few full-length sequences. It gets the memory
of its GPUs minus what CUDA, activations and fragmentation take. The guard compares the two before
any resource is registered and, when the model does not fit, says what would.

Pure Python (no Pulumi): the spec validation imports it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

GPU_COUNTS = (1, 2, 4, 8)
"""GPUs per pod: tensor parallelism splits attention heads evenly, so powers of two only."""

USABLE_FRACTION = 0.90
"""Share of GPU memory left for weights and KV cache after the CUDA context, activations, fragmentation."""

MIN_FULL_SEQUENCES = 4
"""Without an explicit `max_batch_total_tokens`, the KV cache must hold this many full-length sequences."""

DEFAULT_MAX_TOTAL_TOKENS = 4096
"""TGI's default when `--max-total-tokens` is not set (min(model context, 4096))."""

UNKNOWN_ARCHITECTURE_KV_SHARE = 0.20
"""KV-cache headroom as a share of the weights when a declared model gives no architecture."""

GB = 1e9


@dataclass(frozen=True)
class GpuType:
    """One GPU model and the machines that carry it, per cloud (GPUs per machine -> machine type)."""

    memory_gb: float
    bfloat16: bool = True
    """Ampere and newer; Turing (T4) computes in float16 only."""
    fp8: bool = False
    """Ada and Hopper run FP8 weights natively."""
    aws: dict[int, str] = field(default_factory=dict)
    gcp: dict[int, str] = field(default_factory=dict)
    azure: dict[int, str] = field(default_factory=dict)
    gke_accelerator: str | None = None
    """GKE's accelerator type name (`guest_accelerators[].type`)."""

    def machines(self, cloud: str) -> dict[int, str]:
        machines: dict[int, str] = getattr(self, cloud)
        return machines


@dataclass(frozen=True)
class Machine:
    """What a machine type offers a serving pod: its GPUs, CPUs and memory."""

    gpus: int
    vcpus: int
    memory_gib: int


GPUS: dict[str, GpuType] = {
    "nvidia-t4": GpuType(
        memory_gb=16,
        bfloat16=False,
        aws={1: "g4dn.2xlarge", 4: "g4dn.12xlarge"},
        gcp={1: "n1-standard-8", 2: "n1-standard-16", 4: "n1-standard-32"},
        azure={1: "Standard_NC8as_T4_v3", 4: "Standard_NC64as_T4_v3"},
        gke_accelerator="nvidia-tesla-t4",
    ),
    "nvidia-a10g": GpuType(memory_gb=24, aws={1: "g5.2xlarge", 4: "g5.12xlarge", 8: "g5.48xlarge"}),
    "nvidia-a10": GpuType(memory_gb=24, azure={1: "Standard_NV36ads_A10_v5", 2: "Standard_NV72ads_A10_v5"}),
    "nvidia-l4": GpuType(
        memory_gb=24,
        fp8=True,
        aws={1: "g6.2xlarge", 4: "g6.12xlarge", 8: "g6.48xlarge"},
        gcp={1: "g2-standard-8", 2: "g2-standard-24", 4: "g2-standard-48", 8: "g2-standard-96"},
        gke_accelerator="nvidia-l4",
    ),
    "nvidia-l40s": GpuType(memory_gb=48, fp8=True, aws={1: "g6e.2xlarge", 4: "g6e.12xlarge", 8: "g6e.48xlarge"}),
    "nvidia-a100-40gb": GpuType(
        memory_gb=40,
        aws={8: "p4d.24xlarge"},
        gcp={1: "a2-highgpu-1g", 2: "a2-highgpu-2g", 4: "a2-highgpu-4g", 8: "a2-highgpu-8g"},
        azure={8: "Standard_ND96asr_v4"},
        gke_accelerator="nvidia-tesla-a100",
    ),
    "nvidia-a100-80gb": GpuType(
        memory_gb=80,
        aws={8: "p4de.24xlarge"},
        gcp={1: "a2-ultragpu-1g", 2: "a2-ultragpu-2g", 4: "a2-ultragpu-4g", 8: "a2-ultragpu-8g"},
        azure={
            1: "Standard_NC24ads_A100_v4",
            2: "Standard_NC48ads_A100_v4",
            4: "Standard_NC96ads_A100_v4",
            8: "Standard_ND96amsr_A100_v4",
        },
        gke_accelerator="nvidia-a100-80gb",
    ),
    "nvidia-h100-80gb": GpuType(
        memory_gb=80,
        fp8=True,
        aws={8: "p5.48xlarge"},
        gcp={8: "a3-highgpu-8g"},
        azure={1: "Standard_NC40ads_H100_v5", 2: "Standard_NC80adis_H100_v5", 8: "Standard_ND96isr_H100_v5"},
        gke_accelerator="nvidia-h100-80gb",
    ),
}

MACHINES: dict[str, Machine] = {
    # AWS
    "g4dn.2xlarge": Machine(1, 8, 32),
    "g4dn.12xlarge": Machine(4, 48, 192),
    "g5.2xlarge": Machine(1, 8, 32),
    "g5.12xlarge": Machine(4, 48, 192),
    "g5.48xlarge": Machine(8, 192, 768),
    "g6.2xlarge": Machine(1, 8, 32),
    "g6.12xlarge": Machine(4, 48, 192),
    "g6.48xlarge": Machine(8, 192, 768),
    "g6e.2xlarge": Machine(1, 8, 64),
    "g6e.12xlarge": Machine(4, 48, 384),
    "g6e.48xlarge": Machine(8, 192, 1536),
    "p4d.24xlarge": Machine(8, 96, 1152),
    "p4de.24xlarge": Machine(8, 96, 1152),
    "p5.48xlarge": Machine(8, 192, 2048),
    # Google Cloud
    "n1-standard-8": Machine(1, 8, 30),
    "n1-standard-16": Machine(2, 16, 60),
    "n1-standard-32": Machine(4, 32, 120),
    "g2-standard-8": Machine(1, 8, 32),
    "g2-standard-24": Machine(2, 24, 96),
    "g2-standard-48": Machine(4, 48, 192),
    "g2-standard-96": Machine(8, 96, 384),
    "a2-highgpu-1g": Machine(1, 12, 85),
    "a2-highgpu-2g": Machine(2, 24, 170),
    "a2-highgpu-4g": Machine(4, 48, 340),
    "a2-highgpu-8g": Machine(8, 96, 680),
    "a2-ultragpu-1g": Machine(1, 12, 170),
    "a2-ultragpu-2g": Machine(2, 24, 340),
    "a2-ultragpu-4g": Machine(4, 48, 680),
    "a2-ultragpu-8g": Machine(8, 96, 1360),
    "a3-highgpu-8g": Machine(8, 208, 1872),
    # Azure
    "Standard_NC8as_T4_v3": Machine(1, 8, 56),
    "Standard_NC64as_T4_v3": Machine(4, 64, 440),
    "Standard_NV36ads_A10_v5": Machine(1, 36, 440),
    "Standard_NV72ads_A10_v5": Machine(2, 72, 880),
    "Standard_ND96asr_v4": Machine(8, 96, 900),
    "Standard_NC24ads_A100_v4": Machine(1, 24, 220),
    "Standard_NC48ads_A100_v4": Machine(2, 48, 440),
    "Standard_NC96ads_A100_v4": Machine(4, 96, 880),
    "Standard_ND96amsr_A100_v4": Machine(8, 96, 1900),
    "Standard_NC40ads_H100_v5": Machine(1, 40, 320),
    "Standard_NC80adis_H100_v5": Machine(2, 80, 640),
    "Standard_ND96isr_H100_v5": Machine(8, 96, 1900),
}


@dataclass(frozen=True)
class Architecture:
    """What sizes the KV cache: bytes per token = 2 (K and V) x layers x KV heads x head dim x 2 bytes."""

    layers: int
    kv_heads: int
    head_dim: int

    def kv_bytes_per_token(self, kv_bytes: float = 2.0) -> float:
        return 2 * self.layers * self.kv_heads * self.head_dim * kv_bytes


@dataclass(frozen=True)
class ModelInfo:
    parameters_billion: float
    architecture: Architecture | None = None
    context: int | None = None
    """Longest sequence the model was trained for (max_position_embeddings)."""
    quantized: str | None = None
    """Quantization method of a pre-quantized checkpoint (its weights are already small)."""


MODELS: dict[str, ModelInfo] = {
    "meta-llama/Llama-3.2-3B-Instruct": ModelInfo(3.21, Architecture(28, 8, 128), 131_072),
    "meta-llama/Llama-3.1-8B-Instruct": ModelInfo(8.03, Architecture(32, 8, 128), 131_072),
    "meta-llama/Llama-3.1-70B-Instruct": ModelInfo(70.6, Architecture(80, 8, 128), 131_072),
    "meta-llama/Llama-3.3-70B-Instruct": ModelInfo(70.6, Architecture(80, 8, 128), 131_072),
    "hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4": ModelInfo(
        70.6, Architecture(80, 8, 128), 131_072, quantized="awq"
    ),
    "mistralai/Mistral-7B-Instruct-v0.3": ModelInfo(7.25, Architecture(32, 8, 128), 32_768),
    "mistralai/Mixtral-8x7B-Instruct-v0.1": ModelInfo(46.7, Architecture(32, 8, 128), 32_768),
    "Qwen/Qwen2.5-7B-Instruct": ModelInfo(7.62, Architecture(28, 4, 128), 32_768),
    "Qwen/Qwen2.5-72B-Instruct": ModelInfo(72.7, Architecture(80, 8, 128), 32_768),
    "google/gemma-2-9b-it": ModelInfo(9.24, Architecture(42, 8, 256), 8_192),
    "google/gemma-2-27b-it": ModelInfo(27.2, Architecture(46, 16, 128), 8_192),
    "microsoft/Phi-3.5-mini-instruct": ModelInfo(3.82, Architecture(32, 32, 96), 131_072),
    "HuggingFaceTB/SmolLM2-1.7B-Instruct": ModelInfo(1.71, Architecture(24, 32, 64), 8_192),
}

BYTES_PER_PARAMETER: dict[str, float] = {
    "float16": 2.0,
    "bfloat16": 2.0,
    "fp8": 1.0,
    "eetq": 1.0,
    "bitsandbytes": 1.0,
    # Scales and zero points add a little to the nominal 4 bits.
    "awq": 0.5625,
    "gptq": 0.5625,
    "marlin": 0.5625,
    "bitsandbytes-nf4": 0.5625,
    "bitsandbytes-fp4": 0.5625,
    # Variable bit widths / schemes: assume 8 bits, the conservative common case.
    "exl2": 1.0,
    "compressed-tensors": 1.0,
}

ON_THE_FLY = ("fp8", "eetq", "bitsandbytes-nf4")
"""Quantizations that work on any checkpoint (the others need a pre-quantized model)."""


def weight_format(dtype: str | None, quantize: str | None, model: ModelInfo | None) -> str:
    """The format the weights are held in: the quantization, else the dtype, else bfloat16."""
    if quantize:
        return quantize
    if model is not None and model.quantized:
        return model.quantized
    return dtype or "bfloat16"


@dataclass(frozen=True)
class Need:
    weights_gb: float
    kv_cache_gb: float
    kv_tokens: int
    weight_format: str

    @property
    def total_gb(self) -> float:
        return self.weights_gb + self.kv_cache_gb


def need(
    parameters_billion: float,
    architecture: Architecture | None,
    fmt: str,
    max_total_tokens: int | None,
    max_batch_total_tokens: int | None,
) -> Need:
    """Memory one serving pod needs for these weights and token budgets."""
    weights = parameters_billion * BYTES_PER_PARAMETER[fmt]
    kv_tokens = max_batch_total_tokens or MIN_FULL_SEQUENCES * (max_total_tokens or DEFAULT_MAX_TOTAL_TOKENS)
    if architecture is not None:
        kv = kv_tokens * architecture.kv_bytes_per_token() / GB
    else:
        kv = weights * UNKNOWN_ARCHITECTURE_KV_SHARE
    return Need(weights_gb=weights, kv_cache_gb=kv, kv_tokens=kv_tokens, weight_format=fmt)


def usable_gb(gpu_type: str, count: int) -> float:
    return GPUS[gpu_type].memory_gb * count * USABLE_FRACTION


def fits(required: Need, gpu_type: str, count: int) -> bool:
    return required.total_gb <= usable_gb(gpu_type, count)


def smallest_count(required: Need, gpu_type: str) -> int | None:
    """The fewest GPUs of this type, on a machine some cloud offers, that hold the model."""
    return next(
        (c for c in GPU_COUNTS if fits(required, gpu_type, c) and clouds_offering(gpu_type, c)),
        None,
    )


def suggestions(
    parameters_billion: float,
    architecture: Architecture | None,
    fmt: str,
    max_total_tokens: int | None,
    max_batch_total_tokens: int | None,
    gpu_type: str,
    quantize_options: tuple[str, ...] = ON_THE_FLY,
) -> list[str]:
    """What would fit instead: more of the same GPU, a quantization, or another GPU type."""
    required = need(parameters_billion, architecture, fmt, max_total_tokens, max_batch_total_tokens)
    found: list[str] = []
    same = smallest_count(required, gpu_type)
    if same is not None:
        found.append(f"gpu.count {same} of {gpu_type}")
    if BYTES_PER_PARAMETER[fmt] > 1.0:
        for option in quantize_options:
            if option == "fp8" and not GPUS[gpu_type].fp8:
                continue
            smaller = need(parameters_billion, architecture, option, max_total_tokens, max_batch_total_tokens)
            count = smallest_count(smaller, gpu_type)
            if count is not None:
                found.append(f"model.quantize {option} on {count} x {gpu_type}")
                break
    others = []
    for other in sorted(GPUS, key=lambda g: (GPUS[g].memory_gb, g)):
        if other == gpu_type:
            continue
        count = smallest_count(required, other)
        if count is not None:
            others.append((count * GPUS[other].memory_gb, f"gpu.count {count} of {other}"))
    found.extend(text for _, text in sorted(others)[:3])
    if not found:
        found.append("a smaller model, or shorter token budgets (tokens.max_total_tokens)")
    return found


def machine_for(cloud: str, gpu_type: str, gpus: int) -> tuple[str, Machine] | None:
    """The smallest machine of `cloud` with at least `gpus` GPUs of this type."""
    for count, machine_type in sorted(GPUS[gpu_type].machines(cloud).items()):
        if count >= gpus:
            return machine_type, MACHINES[machine_type]
    return None


def clouds_offering(gpu_type: str, gpus: int) -> list[str]:
    return [cloud for cloud in ("aws", "azure", "gcp") if machine_for(cloud, gpu_type, gpus) is not None]


def pod_resources(cloud: str | None, gpu_type: str, gpus: int) -> tuple[int, int]:
    """CPU cores and memory (GiB) for a pod using `gpus` GPUs of this type on `cloud`.

    Per GPU, the smallest share any of the cloud's machines for that GPU offers, less a quarter of
    headroom for the kubelet, system daemons and the device plugin. It fits whichever machine the
    pool runs, and does not change when a larger pod moves the pool to a larger machine. Without a
    cloud (an existing cluster): 4 cores and 16 GiB per GPU.
    """
    machines = [MACHINES[m] for m in GPUS[gpu_type].machines(cloud).values()] if cloud else []
    if not machines:
        return 4 * gpus, 16 * gpus
    vcpus = min(m.vcpus / m.gpus for m in machines)
    memory = min(m.memory_gib / m.gpus for m in machines)
    return max(1, math.floor(vcpus * gpus * 0.75)), max(4, math.floor(memory * gpus * 0.75))


def nodes_needed(gpus: int, gpus_per_node: int) -> int:
    """Nodes that hold `gpus` GPUs. Pods ask for powers of two and machines carry powers of two, so
    whole pods always pack without waste and the division is exact."""
    return math.ceil(gpus / gpus_per_node)
