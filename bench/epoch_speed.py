"""PyTorch side of bench/epoch-speed.sh: trains torchvision's resnet18 (18 classes) on the same photos as MaskLab's
run (train/images of a MaskLab synthetic set, resized to SIZE, the same person-level holdout is not needed for
speed: every photo is trained on), Adam lr 1e-3, no augmentation, and prints one JSON line with the images/s of
each epoch."""
import argparse, json, os, time

import torch
import torch.nn.functional as F
import torchvision
from PIL import Image

STEMS = {"mask1": 0, "mask2": 0, "mask3": 0, "mask4": 0, "mask5": 0, "incorrect_mask": 1, "normal": 2}


def load(root, w, h, limit):
    xs, ys = [], []
    images = os.path.join(root, "train", "images")
    for folder in sorted(os.listdir(images)):
        if folder.startswith("."):
            continue
        _, gender, _, age = folder.split("_")
        g = 0 if gender == "male" else 1
        a = 0 if int(age) < 30 else 1 if int(age) < 60 else 2
        for name in sorted(os.listdir(os.path.join(images, folder))):
            stem = os.path.splitext(name)[0]
            if name.startswith(".") or stem not in STEMS:
                continue
            img = Image.open(os.path.join(images, folder, name)).convert("RGB").resize((w, h), Image.BILINEAR)
            xs.append(torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8).view(h, w, 3))
            ys.append(STEMS[stem] * 6 + g * 3 + a)
            if len(xs) >= limit:
                break
        if len(xs) >= limit:
            break
    x = torch.stack(xs).permute(0, 3, 1, 2).float().div_(255)
    x = (x - torch.tensor([0.548, 0.504, 0.479]).view(1, 3, 1, 1)) / torch.tensor([0.237, 0.247, 0.246]).view(1, 3, 1, 1)
    return x.contiguous(), torch.tensor(ys)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--size", default="32x32")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--photos", type=int, default=48000, help="photos an epoch (at most what the set has)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--flush-denormal", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(a.flush_denormal)
    torch.manual_seed(1)
    w, h = (int(v) for v in a.size.split("x"))
    x, y = load(a.data, w, h, a.photos)
    model = torchvision.models.resnet18(num_classes=18)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    model.train()
    speeds = []
    n = (len(x) // a.batch) * a.batch
    for epoch in range(a.epochs):
        order = torch.randperm(len(x))[:n]
        t = time.perf_counter()
        for b in range(0, n, a.batch):
            idx = order[b:b + a.batch]
            opt.zero_grad()
            loss = F.cross_entropy(model(x[idx]), y[idx])
            loss.item()
            loss.backward()
            opt.step()
        speeds.append(n / (time.perf_counter() - t))
    print(json.dumps({"torch": torch.__version__, "photos": n, "flush_denormal": a.flush_denormal,
                      "images_per_second": speeds}))


if __name__ == "__main__":
    main()
