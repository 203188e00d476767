"""PyTorch eager on a CUDA GPU, for bench/vs-pytorch-gpu.sh: resnet18 training images/s in one configuration,
timed the way `masklab bench` times MaskLab (median step after warm-up, random tensors, AdamW lr 1e-4, cross
entropy over 18 classes, a synchronisation after each step). bf16 is autocast, the PyTorch user's way to the same
mixed precision that MaskLab's `precision: bf16` gives (bf16 compute, fp32 master weights). Prints one JSON line.
    python3 bench/vs_pytorch_gpu.py --size 224x224 --batch 64 --precision bf16 [--channels-last]
"""
import argparse, json, statistics, time

import torch
import torch.nn.functional as F
import torchvision


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--size", default="224x224")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    a = p.parse_args()
    w, h = (int(v) for v in a.size.split("x"))
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    model = torchvision.models.resnet18(num_classes=18).cuda().to(memory_format=fmt).train()
    opt = torch.optim.AdamW(model.parameters(), 1e-4)
    x = torch.randn(a.batch, 3, h, w, device="cuda").contiguous(memory_format=fmt)
    y = torch.randint(0, 18, (a.batch,), device="cuda")
    times = []
    for i in range(a.warmup + a.steps):
        torch.cuda.synchronize()
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=a.precision == "bf16"):
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        loss.item()
        torch.cuda.synchronize()
        if i >= a.warmup:
            times.append(time.perf_counter() - t)
    print(json.dumps({"framework": "pytorch", "torch": torch.__version__, "device_name": torch.cuda.get_device_name(),
                      "image_size": a.size, "batch": a.batch, "precision": a.precision, "channels_last": a.channels_last,
                      "train_images_per_second": a.batch / statistics.median(times)}))


if __name__ == "__main__":
    main()
