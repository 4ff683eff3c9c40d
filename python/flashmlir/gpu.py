"""Launching compiled Hopper kernels on torch tensors.

A kernel comes from `attn-compile` (or the compile API) as PTX plus launch
metadata (JSON): which function arguments the kernel parameters are, grid,
block, dynamic shared memory, and the TMA tensor maps the host must encode.

    kernel = HopperKernel(ptx_text, json.loads(meta_text))
    kernel(q, k, v, out, lse)        # torch CUDA tensors, the function's arguments

Tensor maps are encoded by flashmlir's C++ runtime (`flashmlir._cuda`) for the
actual tensors, kept in device memory and reused while the same tensors come
back (keyed by their addresses and shapes).
"""

from . import _cuda

_ELEMENT_BYTES = {"bf16": 2, "f16": 2, "f32": 4, "f8E4M3FN": 1}


class HopperKernel:
    def __init__(self, ptx, meta, device=0, kernel_index=0):
        info = meta["kernels"][kernel_index]
        self.name = info["name"]
        self.grid = info["grid"]
        self.block = info["block"]
        self.shared_bytes = info["dynamic_shared_memory"]
        self.arguments = info["arguments"]
        self.tensor_maps = {m["parameter"]: m for m in info.get("tensor_maps", [])}
        self.device = device
        self._module = _cuda.Module(ptx, device)
        self._kernel = self._module.function(self.name)
        self._maps_key = None
        self._maps = None

    def attributes(self):
        return self._kernel.attributes()

    def _encode_maps(self, args):
        import torch

        blobs = []
        for param in sorted(self.tensor_maps):
            m = self.tensor_maps[param]
            t = args[m["operand"]]
            if t.dim() != 4 or not t.is_contiguous():
                raise ValueError(
                    f"argument {m['operand']}: a tensor map needs a contiguous "
                    f"[B, S, H, D] tensor, got shape {tuple(t.shape)} "
                    f"strides {t.stride()}")
            es = _ELEMENT_BYTES[m["element"]]
            if t.element_size() != es:
                raise TypeError(f"argument {m['operand']}: expected {m['element']}, "
                                f"got {t.dtype}")
            b, s, h, d = t.shape
            blobs.append(_cuda.encode_tensor_map(
                m["element"], t.data_ptr(), [d, h, s, b],
                [d * es, h * d * es, s * h * d * es], m["box"], m["swizzle"]))
        raw = torch.frombuffer(bytearray(b"".join(blobs)), dtype=torch.uint8)
        return raw.to(f"cuda:{self.device}")

    def __call__(self, *args, stream=None):
        import torch

        key = tuple((a.data_ptr(), tuple(a.shape)) for a in args)
        if key != self._maps_key:
            self._maps = self._encode_maps(args) if self.tensor_maps else None
            self._maps_key = key
        params = []
        order = sorted(self.tensor_maps)
        for i, arg_index in enumerate(self.arguments):
            if i in self.tensor_maps:
                params.append(self._maps.data_ptr() + 128 * order.index(i))
            else:
                params.append(args[arg_index].data_ptr())
        if stream is None:
            stream = torch.cuda.current_stream(self.device).cuda_stream
        self._kernel.launch(self.grid, self.block, self.shared_bytes, stream, params)
