#!/usr/bin/env python3
"""Vendor-library reference points for `pflow bench ops --backend cuda`, on the same card.

Times, with PyTorch (which calls cuBLAS and cuDNN), the shapes `pflow bench ops` times:
  - the square bf16 GEMM (the peak both sides compare against),
  - the DiT's attention over [text; frames] at 384p: scaled_dot_product_attention with
    the Pyramid Flow frame mask as a boolean tensor (what the official code runs: no flash
    kernel takes an arbitrary mask), and without a mask on the flash and cuDNN backends
    (the speed a fused kernel reaches when it may skip nothing),
  - the VAE decoder's causal 3x3x3 convolutions (2 frames, two zero frames in front),
    cuDNN with benchmark mode on.
FLOPs are counted as pflow counts them (attention: only the (query, key) pairs the mask
lets through, so masked and pflow figures compare; unmasked runs count every pair).
A measuring tool for the GPU machine (ci/device_check.sh runs it when torch imports);
not part of the product, which has no Python.
"""
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("cudnn_reference: no PyTorch here; nothing measured")
    sys.exit(77)

HEADS, HD, TEXT, TEXT_VALID, BATCH = 30, 64, 128, 32, 2
LAYOUTS = [  # as apps/bench_ops.c: tokens per frame, history first
    ("unit 0 stage 0", [60]),
    ("unit 0 stage 2", [960]),
    ("unit 15 stage 1", [60] * 14 + [240, 240]),
    ("unit 15 stage 2", [60] * 13 + [240, 960, 960]),
]
CONVS = [  # name, ci, co, h, w (2 frames)
    ("mid / up_blocks.0 resnet (1/8)", 512, 512, 48, 80),
    ("up_blocks.0 upsampler conv (1/8)", 512, 2048, 48, 80),
    ("up_blocks.1 resnet (1/4)", 512, 512, 96, 160),
    ("up_blocks.2 resnet (1/2)", 256, 256, 192, 320),
    ("up_blocks.3 resnet (full size)", 128, 128, 384, 640),
    ("conv_out (128 -> RGB)", 128, 3, 384, 640),
]


def timed(fn, reps):
    fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        ts.append(time.perf_counter() - t0)
    ts.sort()
    return ts[len(ts) // 2], ts[0]


def line(name, op, shape, t, flops, peak):
    gf = flops / t * 1e-9
    ratio = f"  {gf / peak:5.2f} of peak" if peak else ""
    print(f"  {name:<38} {op:<9} {shape:<24} {t * 1e3:9.2f} ms {gf:8.1f} GFLOP/s{ratio}", flush=True)


def frame_meta(frames):
    meta = [1 if i < TEXT_VALID else 0 for i in range(TEXT)]
    for f, n in enumerate(frames):
        meta += [f * 2 + 1] * n
    return torch.tensor(meta, dtype=torch.int32, device="cuda")


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    dev = torch.device("cuda")
    dt = torch.bfloat16
    print("cudnn_reference: PyTorch %s, CUDA %s, cuDNN %s, %s" % (torch.__version__, torch.version.cuda,
                                                                 torch.backends.cudnn.version(),
                                                                 torch.cuda.get_device_name(0)))
    print("  bf16 activations and weights; median of %d after one warm-up" % reps)
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = False

    S = 8192
    a = torch.randn(S, S, device=dev, dtype=dt)
    b = torch.randn(S, S, device=dev, dtype=dt)
    med, best = timed(lambda: a @ b, reps)
    peak = 2.0 * S ** 3 / best * 1e-9
    print("\npeak (square GEMM, best of the repetitions):")
    line("torch.matmul (cuBLAS)", "gemm", f"{S} x {S} x {S}", best, 2.0 * S ** 3, peak)
    del a, b

    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel
    except ImportError:
        SDPBackend = sdpa_kernel = None
    print("\nattention, [B %d, H %d, N, D %d]:" % (BATCH, HEADS, HD))
    for where, frames in LAYOUTS:
        meta = frame_meta(frames)
        N = meta.numel()
        valid, frame = meta & 1, meta >> 1
        allow = (valid[:, None] == valid[None, :]) & (frame[:, None] >= frame[None, :])  # [q, k]
        pairs = float(allow.sum().item()) * BATCH
        q, k, v = (torch.randn(BATCH, HEADS, N, HD, device=dev, dtype=dt) for _ in range(3))
        shape = f"B {BATCH} N {N} H {HEADS} D {HD}"
        fl_mask = pairs * HEADS * 2.0 * (HD + HD)
        fl_full = float(BATCH) * N * N * HEADS * 2.0 * (HD + HD)
        mask = allow[None, None]
        t, _ = timed(lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=mask), reps)
        line(f"{where}: SDPA, boolean frame mask", "attention", shape, t, fl_mask, peak)
        if sdpa_kernel is not None:
            for label, be in (("flash", "FLASH_ATTENTION"), ("cuDNN", "CUDNN_ATTENTION")):
                if not hasattr(SDPBackend, be):
                    continue
                try:
                    with sdpa_kernel(getattr(SDPBackend, be)):
                        t, _ = timed(lambda: F.scaled_dot_product_attention(q, k, v), reps)
                    line(f"{where}: SDPA {label}, no mask", "attention", shape, t, fl_full, peak)
                except RuntimeError as e:
                    print(f"  {where}: SDPA {label}: not available ({str(e).splitlines()[0][:80]})")
        del q, k, v

    print("\nVAE decoder, causal 3x3x3 convolutions, 2 frames (cuDNN):")
    for name, ci, co, h, w in CONVS:
        x = torch.randn(1, ci, 2, h, w, device=dev, dtype=dt)
        wt = torch.randn(co, ci, 3, 3, 3, device=dev, dtype=dt)
        bias = torch.randn(co, device=dev, dtype=dt)

        def conv():
            return F.conv3d(F.pad(x, (1, 1, 1, 1, 2, 0)), wt, bias)

        t, _ = timed(conv, reps)
        line(name, "conv3d", f"{ci}->{co} T 2 {h}x{w}", t, 2.0 * co * ci * 27 * 2 * h * w, peak)
        del x, wt, bias
    return 0


if __name__ == "__main__":
    sys.exit(main())
