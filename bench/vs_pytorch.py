"""PyTorch side of bench/vs-pytorch.sh: the same timing loop as `masklab bench` (median step time after warm-up,
random tensors, AdamW, cross entropy), one JSON line on stdout. bf16 uses PyTorch's own autocast."""
import argparse, json, statistics, time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class BaseModel(nn.Module):
    """The competition's BaseModel, as MaskLab's `baseline`."""

    def __init__(self, num_classes):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 7)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.dropout1 = nn.Dropout(0.25)
        self.conv3 = nn.Conv2d(64, 128, 3)
        self.dropout2 = nn.Dropout(0.25)
        self.fc = nn.Linear(128, num_classes)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = self.dropout1(F.max_pool2d(x, 2))
        x = F.relu(self.conv3(x))
        x = self.dropout2(F.max_pool2d(x, 2))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--size", required=True, help="WxH")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--profile", action="store_true", help="also report median ms per phase of the training step")
    p.add_argument("--channels-last", action="store_true", help="model and batches in the channels-last (NHWC) layout")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    w, h = (int(v) for v in a.size.split("x"))
    if a.model == "baseline":
        model = BaseModel(18)
    elif a.model == "resnet18_mlnet":
        # MaskLab's resnet18_mlnet: torchvision's ResNet with a third basic block in the last stage (its padding
        # differs slightly at stride 2, which costs nothing to time).
        model = torchvision.models.resnet.ResNet(torchvision.models.resnet.BasicBlock, [2, 2, 2, 3], num_classes=18)
    else:
        model = getattr(torchvision.models, a.model)(num_classes=18)
    x = torch.randn(a.batch, 3, h, w)
    if a.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), 1e-4)
    y = torch.randint(0, 18, (a.batch,))
    bf16 = a.precision == "bf16"

    def autocast():
        return torch.autocast(device_type="cpu", dtype=torch.bfloat16, enabled=bf16)

    model.train()
    train = []
    phases = {"zero grad": [], "forward": [], "loss": [], "backward": [], "optimiser": []}
    for i in range(a.warmup + a.steps):
        t = time.perf_counter()
        marks = [t]
        opt.zero_grad()
        marks.append(time.perf_counter())
        with autocast():
            logits = model(x)
            marks.append(time.perf_counter())
            loss = F.cross_entropy(logits, y)
            loss.item()
            marks.append(time.perf_counter())
        loss.backward()
        marks.append(time.perf_counter())
        opt.step()
        marks.append(time.perf_counter())
        if i >= a.warmup:
            train.append(time.perf_counter() - t)
            for (name, times), t0, t1 in zip(phases.items(), marks, marks[1:]):
                times.append(t1 - t0)

    model.eval()
    infer = []
    with torch.inference_mode(), autocast():
        for i in range(a.warmup + a.steps):
            t = time.perf_counter()
            model(x)
            if i >= a.warmup:
                infer.append(time.perf_counter() - t)

    extra = {"phases_ms": {k: 1000 * statistics.median(v) for k, v in phases.items()}} if a.profile else {}
    print(json.dumps({
        "model": a.model, "image_size": a.size, "batch": a.batch, "precision": a.precision, "channels_last": a.channels_last,
        "threads": torch.get_num_threads(), "torch": torch.__version__,
        "train_images_per_second": a.batch / statistics.median(train),
        "infer_images_per_second": a.batch / statistics.median(infer),
        **extra,
    }))


if __name__ == "__main__":
    main()
