"""PyTorch reference on a CUDA GPU: what autocast buys in training images/s, the write-up's "mixed precision
made training about 40 % faster". Not part of MaskLab (MaskLab's TorchSharp package is CPU-only here); it gives
the number MaskLab's own bf16 on the CPU is compared with in bench/RESULTS.md.

Same timing loop as bench/vs_pytorch.py (median step after warm-up, random tensors, AdamW, cross entropy), with
CUDA synchronisation around each step. fp16 uses a GradScaler as the write-up's autocast recipe does; bf16 needs
none. Prints one Markdown table; needs torch, torchvision and, for ViT-Tiny, timm.
    python3 bench/gpu_reference.py [--steps 30] [--warmup 5] [--batch 64]
"""
import argparse, statistics, time

import torch
import torch.nn.functional as F
import torchvision


def build(name, w, h):
    if name == "vit_tiny_patch16":
        import timm
        return timm.create_model("vit_tiny_patch16_224", num_classes=18, img_size=(h, w))
    return getattr(torchvision.models, name)(num_classes=18)


def train_speed(name, w, h, batch, precision, steps, warmup):
    torch.manual_seed(0)
    model = build(name, w, h).cuda().train()
    opt = torch.optim.AdamW(model.parameters(), 1e-4)
    scaler = torch.amp.GradScaler("cuda", enabled=precision == "fp16")
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(precision)
    x = torch.randn(batch, 3, h, w, device="cuda")
    y = torch.randint(0, 18, (batch,), device="cuda")
    times = []
    for i in range(warmup + steps):
        torch.cuda.synchronize()
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=dtype or torch.float32, enabled=dtype is not None):
            loss = F.cross_entropy(model(x), y)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - t)
    return batch / statistics.median(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--configs", default="resnet18:96x128 resnet18:224x224 vit_tiny_patch16:96x128 vit_tiny_patch16:224x224")
    a = p.parse_args()
    torch.backends.cudnn.benchmark = True
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}, batch {a.batch}, "
          f"{a.steps} timed steps after {a.warmup} warm-up; TF32 matmul {torch.backends.cuda.matmul.allow_tf32}")
    print()
    print("| model | size | fp32 img/s | fp16 autocast img/s | fp16 / fp32 | bf16 autocast img/s | bf16 / fp32 |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for config in a.configs.split():
        name, size = config.split(":")
        w, h = (int(v) for v in size.split("x"))
        r = {pr: train_speed(name, w, h, a.batch, pr, a.steps, a.warmup) for pr in ("fp32", "fp16", "bf16")}
        print(f"| {name} | {size} | {r['fp32']:.0f} | {r['fp16']:.0f} | {r['fp16'] / r['fp32']:.2f} "
              f"| {r['bf16']:.0f} | {r['bf16'] / r['fp32']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
