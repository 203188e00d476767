"""Fashion-MNIST for bench/fashion-mnist.sh.

`folders OUT`: writes Debian's dataset-fashion-mnist (the idx files) as image folders, OUT/train/<class>/<n>.png
(60,000) and OUT/test/<class>/<n>.png (10,000), the layout `masklab train --data` reads.

`train OUT`: PyTorch's side of the bar: torchvision's resnet18 (10 classes, from scratch) on all 60,000 training
photos read from those folders at 32x32, Adam lr 1e-3, batch 64, cosine over the epochs, random horizontal flip,
fp32; one JSON line with each epoch's images/s, the training seconds and the test accuracy."""
import gzip, json, os, struct, sys, time

from PIL import Image

IDX = "/usr/share/datasets/fashion-mnist"
CLASSES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"]


def read_idx(name):
    """The shape and the raw bytes of an idx file."""
    with gzip.open(os.path.join(IDX, name)) as f:
        data = f.read()
    dims = data[3]
    return struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims]), data[4 + 4 * dims:]


def folders(out):
    for split, prefix in (("train", "train"), ("test", "t10k")):
        (count, h, w), images = read_idx(f"{prefix}-images-idx3-ubyte.gz")
        _, labels = read_idx(f"{prefix}-labels-idx1-ubyte.gz")
        for c in CLASSES:
            os.makedirs(os.path.join(out, split, c), exist_ok=True)
        for n in range(count):
            img = Image.frombytes("L", (w, h), images[n * h * w:(n + 1) * h * w])
            img.save(os.path.join(out, split, CLASSES[labels[n]], f"{n:05d}.png"))


def load(root, size):
    import torch
    xs, ys = [], []
    for c, name in enumerate(CLASSES):
        folder = os.path.join(root, name)
        for file in sorted(os.listdir(folder)):
            img = Image.open(os.path.join(folder, file)).convert("RGB").resize((size, size), Image.BILINEAR)
            xs.append(torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8).view(size, size, 3))
            ys.append(c)
    x = torch.stack(xs).permute(0, 3, 1, 2).float().div_(255)
    mean, std = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    return ((x - mean) / std).contiguous(), torch.tensor(ys)


def train(out, epochs=5, batch=64, size=32, threads=None):
    import torch
    import torch.nn.functional as F
    import torchvision
    torch.set_num_threads(threads or os.cpu_count())
    torch.manual_seed(1)
    x, y = load(os.path.join(out, "train"), size)
    tx, ty = load(os.path.join(out, "test"), size)
    model = torchvision.models.resnet18(num_classes=len(CLASSES))
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    steps = epochs * (len(x) // batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    speeds, start = [], time.perf_counter()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x))
        t = time.perf_counter()
        for b in range(0, len(x) - batch + 1, batch):
            idx = order[b:b + batch]
            xb = x[idx]
            flip = torch.rand(len(idx)) < 0.5
            xb[flip] = xb[flip].flip(3)
            opt.zero_grad()
            F.cross_entropy(model(xb), y[idx]).backward()
            opt.step()
            sched.step()
        speeds.append((len(x) // batch) * batch / (time.perf_counter() - t))
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        right = sum((model(tx[b:b + 256]).argmax(1) == ty[b:b + 256]).sum().item() for b in range(0, len(tx), 256))
    print(json.dumps({"torch": torch.__version__, "train_photos": len(x), "images_per_second": speeds,
                      "train_seconds": seconds, "test_accuracy": right / len(tx)}))


if __name__ == "__main__":
    {"folders": folders, "train": train}[sys.argv[1]](sys.argv[2])
